"""
Title: The nearest training examples' labels blended into the classifier
Author: the sdl_keras authors
Date created: 2026/11/30
Last modified: 2026/12/01
Description: Apply the default recipe's neighbour blend to the saved runs of the recipe, and score each run with and without it.
Accelerator: None
"""

"""
## Introduction

A contrastive loss draws examples that share labels together in the
encoder's space; the mean labels of an input's 10 nearest training examples
there (cosine) are label scores a sigmoid head does not read. The default
recipe blends them into the classifier's probabilities with the share that
validation data clearly prefer (`sdl_keras.neighbour_blend`). The blend
comes after training, so this script takes the runs
`examples/default_recipe.py` saved, applies `fit_neighbour_blend` to each as
`sdl-keras train` now does (a run saved with the blend is scored without
it first), and scores the test split with and without it
(thresholds tuned on validation by the default rule either way). It prints
the shares chosen, the mean test scores without and with the blend, the
change per run (mean [95% t interval] over seeds) and SDL − BCE only
with the blend, paired by seed:

    python examples/neighbour_blend.py --tasks "fashion scenes" --report results/neighbours.md

`--sdl-runs` scores a study's SDL runs of `examples/default_recipe.py`
instead of the default's (`sdl_joint1`: `--classification-weight 1`), on
the seeds both rows have (`--seeds`: these only).
"""

"""
## Setup
"""

import argparse
from pathlib import Path

import numpy as np
from _runs import add_saved_run_options, row_names, saved_runs

from sdl_keras.neighbour_blend import fit_neighbour_blend
from sdl_keras.reports import markdown_table, mean_std, paired_difference
from sdl_keras.run_directory import SavedRun
from sdl_keras.two_stage import classifier_report

METRICS = ("micro_f1", "macro_f1", "map")

"""
## One run, without and with the neighbours
"""


def scored(directory: Path, task) -> dict:
    """The run's test scores without and with the neighbour blend, and the
    share chosen."""
    run = SavedRun.load(directory)
    classifier, make_dataset = run.classifier, run.pipeline.make_dataset
    counts = task.train.y.sum(axis=0)

    def test_scores() -> list[float]:
        report = classifier_report(classifier, counts, task.test, make_dataset)
        return [report["tuned"][metric] for metric in METRICS]

    classifier.remove_neighbours()  # a run saved with the blend: scored without
    # The default threshold rule for both, whatever rule the run was saved under.
    classifier.tune_thresholds(
        make_dataset(task.validation, "evaluate", 0), task.validation.y, per_label=None
    )
    without = test_scores()
    chosen = fit_neighbour_blend(classifier, run.pipeline, task.train, task.validation)
    return {
        "without": without,
        "with": test_scores(),
        "share": chosen.get("neighbour_weight", 0.0),
    }


"""
## Options
"""

parser = argparse.ArgumentParser(
    description="The neighbour blend on the recipe's runs."
)
parser.add_argument("--tasks", nargs="+", required=True, help="task folders")
parser.add_argument("--report", type=Path)
add_saved_run_options(parser)
args = parser.parse_args()
ROWS = row_names(args.sdl_runs, args.none_runs)

"""
## Every task: each row without and with the blend
"""

header = [
    "task",
    "row",
    "shares",
    *(f"{metric}: without → with" for metric in METRICS),
    *(f"{metric} change" for metric in METRICS),
]
rows = []
for name in args.tasks:
    # Both rows on the seeds both have (a study may have fewer), paired.
    runs, task = saved_runs(args.runs_dir, name, ROWS, args.seeds)
    results = {
        prefix: [scored(run, task) for run in group]
        for prefix, group in runs.items()
        if group
    }
    with_blend = {}
    for prefix, scores in results.items():
        without, with_ = (
            np.array([s[key] for s in scores]).T for key in ("without", "with")
        )
        with_blend[prefix] = with_
        rows.append(
            [
                name,
                f"{ROWS[prefix]} ({len(scores)} seeds)",
                ", ".join(f"{s['share']:g}" for s in scores),
                *(
                    f"{mean_std(a)} → {mean_std(b)}"
                    for a, b in zip(without, with_, strict=True)
                ),
                *(
                    paired_difference(b - a)
                    for a, b in zip(without, with_, strict=True)
                ),
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
    if len(with_blend) == 2:
        rows.append(
            [
                name,
                "SDL − BCE only, with the blend",
                "",
                *(
                    paired_difference(s - n)
                    for s, n in zip(
                        with_blend[args.sdl_runs],
                        with_blend[args.none_runs],
                        strict=True,
                    )
                ),
                "",
                "",
                "",
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
table = markdown_table(header, rows)
print(table)
if args.report:
    args.report.write_text(table + "\n")
