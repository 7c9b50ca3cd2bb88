"""
Title: Decision thresholds: one for all, one per label, or shrunk between
Author: the sdl_keras authors
Date created: 2026/11/30
Last modified: 2026/12/05
Description: Rescore the default recipe's saved runs and the logistic-regression reference under each rule for tuning decision thresholds on validation data.
Accelerator: None
"""

"""
## Introduction

F1 needs a decision threshold, tuned on validation data. One threshold for
every label leaves rare labels, and labels whose scores sit on their own
scale, unpredicted; one per label tuned on a handful of validation
positives is noise. This script takes the runs `examples/default_recipe.py`
saved, scores their validation and test data again, and tunes thresholds
on validation by each rule of `sdl_keras.metrics.best_threshold`:

- one for all (`per_label=False`);
- one per label (`per_label=True`);
- per label or one for all, whichever scores better on held-out halves of
  the validation data (`shrinkages=(0,)`, `bands=None`: the default before
  the shrunk rule);
- each label's own threshold shrunk toward the global one by a pseudo-count
  of validation positives chosen on held-out halves (`bands=None`: the
  default until 2026-12-05);
- the same, shrunk toward the global threshold or toward the pooled one of
  the label's band (the labels with about as many validation positives),
  whichever held-out halves prefer (the default).

The logistic-regression reference is fitted again (deterministic) and
thresholded by the same rules. Test micro- and macro-F1, means over seeds,
and SDL − BCE only paired by seed with t intervals; then a second
table, each run as the default scores it now (the default rule's F1 and the
test mAP, which no threshold changes), whatever rule its `metrics.json` was
written under, with SDL − BCE only and SDL − logistic regression seed by
seed:

    python examples/threshold_rules.py --tasks "emoji scenes" --report results/thresholds.md

Runs are scored without their neighbour blend, alike whichever version
saved them; `--neighbours` keeps it: the runs' own scores, which the
default's reported numbers are. `--network-alone` scores the networks
without the linear blend too (text and tabular runs): what pre-training
changes before logistic regression takes its share. `--sdl-runs` scores a
study's SDL runs instead of the default's, on the seeds both rows have
(`--seeds`: these only).
"""

"""
## Setup
"""

import argparse
from functools import partial
from pathlib import Path

import numpy as np
from _runs import add_saved_run_options, row_names, saved_runs

from sdl_keras.metrics import best_threshold, f1, mean_average_precision
from sdl_keras.references import reference_scores
from sdl_keras.reports import markdown_table, mean_std, paired_difference
from sdl_keras.run_directory import SavedRun
from sdl_keras.two_stage import evaluation_inputs

RULES = {
    "one for all": {"per_label": False},
    "per label": {"per_label": True},
    "per label or one for all": {
        "per_label": None,
        "shrinkages": (0.0,),
        "bands": None,
    },
    "shrunk toward global": {"per_label": None, "bands": None},
    "shrunk toward global or band (default)": {"per_label": None},
}

"""
## Scores of a saved run and of the reference
"""


def labelled(task, validation_scores, test_scores) -> dict:
    """Scores of the validation and test splits beside their labels."""
    return {
        "validation": validation_scores,
        "test": test_scores,
        "validation_labels": task.validation.y,
        "test_labels": task.test.y,
    }


def run_scores(directory: Path, task, network_alone: bool, neighbours: bool) -> dict:
    """Validation and test scores of a saved run, with the labels; unless
    `neighbours`, without the neighbour blend (`neighbour_blend.py` measures
    it): every run alike, whether or not the version that saved it fitted
    one; with `network_alone`, without the linear blend as well."""
    run = SavedRun.load(directory)
    classifier = run.classifier
    if not neighbours:
        classifier.remove_neighbours()
    if network_alone:
        classifier.remove_linear()
    return labelled(
        task,
        *(
            classifier.predict(
                evaluation_inputs(split, run.pipeline.make_dataset, 0), verbose=0
            )
            for split in (task.validation, task.test)
        ),
    )


def logreg_scores(task) -> dict:
    """The same for logistic regression on the task's plain features."""
    features = task.pipeline.reference_features(task.train, task.validation, task.test)
    return labelled(
        task, *reference_scores("logreg", task.train, task.validation, features)
    )


def cached(path: Path, compute) -> dict:
    """Scores are kept beside the table: a rerun reads them back."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **compute())
    with np.load(path) as stored:
        return dict(stored)


def test_f1(scores: dict, rule: dict) -> tuple[float, float]:
    thresholds = best_threshold(
        scores["validation_labels"], scores["validation"], **rule
    )
    predicted = scores["test"] >= thresholds
    return tuple(
        f1(scores["test_labels"], predicted, average) for average in ("micro", "macro")
    )


"""
## Options
"""

parser = argparse.ArgumentParser(description="Threshold rules on the recipe's runs.")
parser.add_argument("--tasks", nargs="+", required=True, help="task folders")
parser.add_argument("--output-dir", type=Path, default=Path("results/thresholds"))
parser.add_argument("--report", type=Path)
parser.add_argument(
    "--network-alone",
    action="store_true",
    help="score the networks without the linear blend too",
)
parser.add_argument(
    "--neighbours",
    action="store_true",
    help="keep the runs' neighbour blends: their own scores",
)
add_saved_run_options(parser)
args = parser.parse_args()

"""
## Every task: each row of the recipe under each rule
"""

header = ["task", "row", *(f"{rule}: micro-F1 / macro-F1" for rule in RULES)]
ROWS = row_names(args.sdl_runs, args.none_runs)
cache_suffix = "_network" * args.network_alone + "_neighbours" * args.neighbours
DEFAULT = list(RULES).index("shrunk toward global or band (default)")
rows = []
default_rows = []  # micro-F1, macro-F1 (the default rule), mAP
for name in args.tasks:
    runs, task = saved_runs(args.runs_dir, name, ROWS, args.seeds)
    scores = {
        ROWS[prefix]: [
            cached(
                args.output_dir / name / f"{run.name}{cache_suffix}.npz",
                partial(run_scores, run, task, args.network_alone, args.neighbours),
            )
            for run in group
        ]
        for prefix, group in runs.items()
        if group
    }
    scores["logistic regression"] = [  # deterministic: one fit
        cached(args.output_dir / name / "logreg.npz", partial(logreg_scores, task))
    ]
    f1s = {
        row: [
            np.transpose([test_f1(s, rule) for s in row_scores])
            for rule in RULES.values()
        ]
        for row, row_scores in scores.items()
    }  # row → rule → [micro, macro] × seeds
    default = {
        row: [
            *by_rule[DEFAULT],
            np.array(
                [
                    mean_average_precision(s["test_labels"], s["test"])
                    for s in scores[row]
                ]
            ),
        ]
        for row, by_rule in f1s.items()
    }  # row → [micro, macro, mAP] × seeds
    for row, by_rule in f1s.items():
        cells = [f"{micro.mean():.4f} / {macro.mean():.4f}" for micro, macro in by_rule]
        count = len(scores[row])
        label = f"{row} ({count} seed{'s' * (count > 1)})"
        rows.append([name, label, *cells])
        default_rows.append([name, label, *(mean_std(v) for v in default[row])])
    paired = all(runs.values())  # saved_runs pairs the rows seed by seed
    if paired:
        sdl, none = (f1s[row] for row in ROWS.values())
        rows.append(
            [
                name,
                "SDL − BCE only",
                *(
                    " / ".join(
                        paired_difference(a - b) for a, b in zip(s, n, strict=True)
                    )
                    for s, n in zip(sdl, none, strict=True)
                ),
            ]
        )
        sdl, none = (default[row] for row in ROWS.values())
        default_rows.append(
            [
                name,
                "SDL − BCE only",
                *(paired_difference(s - n) for s, n in zip(sdl, none, strict=True)),
            ]
        )
    # The yardstick: the SDL row against the (deterministic)
    # reference, seed by seed.
    sdl_row = next(iter(ROWS.values()))
    if sdl_row in default:
        reference = default["logistic regression"]
        default_rows.append(
            [
                name,
                f"{sdl_row.split(' (')[0]} − logistic regression",
                *(
                    paired_difference(d - r[0])
                    for d, r in zip(default[sdl_row], reference, strict=True)
                ),
            ]
        )
    for row in rows[-len(f1s) - paired :]:
        print(" | ".join(row), flush=True)
table = "\n\n".join(
    (
        markdown_table(header, rows),
        markdown_table(["task", "row", "micro_f1", "macro_f1", "map"], default_rows),
    )
)
print(table)
if args.report:
    args.report.write_text(table + "\n")
