"""
Title: The default recipe against logistic regression, on every offline task
Author: the sdl_keras authors
Date created: 2026/11/28
Last modified: 2026/12/03
Description: Train each offline task as `sdl-keras train` does with default options, with SDL and BCE only, beside a tuned logistic regression.
Accelerator: None
"""

"""
## Introduction

A default is only good if it holds on data it was not tuned on. Every offline
task is trained here as a user would train it, `sdl-keras train --task TASK`
with nothing else set, with SDL pre-training and with its BCE-only twin
(`--loss none`, same seeds), beside binary-relevance logistic regression on
TF-IDF (or the features) with C tuned on validation data and the mean labels
of the 10 nearest training examples on the same features. Runs go under
`--output-dir`; a finished run is read back, so an interrupted measurement
resumes. The table, with SDL − BCE-only differences paired by seed and their
t intervals, goes to stdout and `--report`. A study
(`--pretrain-epochs`, `--classification-weight`,
`--encoder-learning-rate-multiplier`, `--temperature`, `--queue-size`,
`--queue-momentum`, `--projection-dim`, `--drop-rate`) changes the SDL runs
alone: they go beside the default's and meet the same BCE-only runs; an
encoder study (`--hidden-layers`) changes both rows, which then compare the
losses on that encoder, as `--plateau-decay` (the classifier's learning rate
cut where validation mAP stalls) and `--limit` (a quick look on fewer
training examples) do.

    python examples/default_recipe.py --report results/recipe/table.md
"""

"""
## Setup
"""

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
from _runs import row_names

from sdl_keras._files import write_json
from sdl_keras.cli.main import train_run
from sdl_keras.references import reference_report
from sdl_keras.reports import mean_cells, paired_cells
from sdl_keras.run_config import RunConfig
from sdl_keras.tasks import load_task

"""
## The tasks and one run
"""

# task → (options, seeds)
TASKS = {
    "yeast": ({"task": "yeast"}, [0, 1, 2]),
    "reuters": ({"task": "reuters"}, [0, 1]),
    "hpo": ({"task": "hpo"}, [0, 1, 2]),
    "newsgroups": ({"task": "newsgroups"}, [0, 1]),
    "hpo level 2": ({"task": "hpo", "level": 2}, [0, 1, 2]),
    "hpo level 3": ({"task": "hpo", "level": 3}, [0, 1]),
    "scenes": ({"task": "scenes"}, [0, 1, 2, 3]),
    "fashion scenes": ({"task": "scenes", "objects": "fashion"}, [0, 1, 2, 3]),
    "8×8 digit scenes": ({"task": "scenes", "objects": "digits"}, [0, 1, 2, 3]),
    "emoji scenes": ({"task": "scenes", "objects": "emoji"}, [0, 1, 2, 3]),
}
METRICS = ("micro_f1", "macro_f1", "map")
REFERENCE = "logreg (reference)"


def blend_shares(report: dict) -> str:
    """`linear / neighbours`: one run's shares of its two blends (`-` for a
    blend it did not fit; empty for a row without blends)."""
    shares = [
        report.get(blend, {}).get(key)
        for blend, key in (
            ("linear_blend", "linear_weight"),
            ("neighbour_blend", "neighbour_weight"),
        )
    ]
    if shares == [None, None]:
        return ""
    return " / ".join("-" if share is None else f"{share:g}" for share in shares)


def run(directory: Path, pipeline: dict, **options) -> dict:
    """The metrics of one run, trained unless already there, with its
    pre-training's contrastive loss by epoch (`pretrain_loss`); `pipeline`:
    options of the task's pipeline (its views, its encoder) to change."""
    metrics = directory / "metrics.json"
    if not metrics.exists():
        started = time.perf_counter()
        config = RunConfig(**options)
        task = None
        if pipeline:
            task = load_task(config)
            changed = dataclasses.replace(task.pipeline, **pipeline)
            task = dataclasses.replace(task, pipeline=changed)
        train_run(config, directory, verbose=0, task=task)
        minutes = (time.perf_counter() - started) / 60
        print(f"  {directory.name}: {minutes:.1f} min", flush=True)
    history = json.loads((directory / "history.json").read_text())
    return {
        **json.loads(metrics.read_text()),
        "pretrain_loss": history.get("pretrain", {}).get("contrastive_loss", []),
    }


def knn_reference(path: Path, **options) -> dict:
    """The report of 10 nearest training examples by cosine on the logistic
    regression's features (`sdl_keras.references`), on the task as the rows
    see it, thresholded as they are; fitted once and kept at `path`."""
    if not path.exists():
        config = RunConfig(**options)
        task = load_task(config)
        splits = (task.train, task.validation, task.test)
        report = reference_report(
            "knn",
            *splits,
            task.pipeline.reference_features(*splits),
            config.per_label_thresholds,
        )
        write_json(path, report)
    return json.loads(path.read_text())


"""
## Options
"""

parser = argparse.ArgumentParser(
    description="The default recipe against logistic regression."
)
parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
parser.add_argument("--output-dir", type=Path, default=Path("results/recipe"))
parser.add_argument("--report", type=Path)
parser.add_argument(
    "--seeds",
    type=int,
    nargs="+",
    help="these seeds for every task (default: each task's)",
)
# A study changes the SDL runs only: they go beside the default's (folder
# `sdl_<tag><value>_seedN`), BCE only is shared, there is no reference row.
# Run options, then options of the pipeline's views. The run options and
# pipeline options of both rows change BCE only as well
# (`none_<tag><value>_seedN`).
STUDIES = {
    "pretrain_epochs": "pretrain",
    "classification_weight": "joint",
    "encoder_learning_rate_multiplier": "encoder_lr",
    "temperature": "tau",
    "queue_size": "queue",
    "queue_momentum": "momentum",
    "projection_dim": "proj",
}
VIEW_STUDIES = {"drop_rate": "drop"}
BOTH_ROWS_STUDIES = {
    "limit": "limit",
    "plateau_decay": "decay",
    "prior_bias": "prior",
    "classifier_epochs": "epochs",
}
ENCODER_STUDIES = {"hidden_layers": "depth"}
# Pipeline options → the task kinds whose pipelines have them, and why not
# the others.
PIPELINE_KINDS = {
    "drop_rate": ({"text", "tabular"}, "image views zoom and shift"),
    "hidden_layers": ({"text"}, "the bag-of-words encoder's depth"),
}
parser.add_argument(
    "--pretrain-epochs",
    type=int,
    help="a study: SDL pre-training epochs instead of the default",
)
parser.add_argument(
    "--classification-weight",
    type=float,
    help="a study: λ of a joint BCE term during SDL pre-training instead of 0",
)
parser.add_argument(
    "--encoder-learning-rate-multiplier",
    type=float,
    help="a study: the pre-trained encoder's share of the classifier's "
    "learning rate when fine-tuning instead of 1",
)
parser.add_argument(
    "--temperature",
    type=float,
    help="a study: SDL's temperature τ instead of 0.1",
)
parser.add_argument(
    "--queue-size",
    type=int,
    help="a study: SDL pre-training with a momentum key encoder and a queue "
    "of this many keys and their labels instead of the batch alone",
)
parser.add_argument(
    "--queue-momentum",
    type=float,
    help="a study: the momentum of the queue's key encoder instead of 0.999",
)
parser.add_argument(
    "--projection-dim",
    type=int,
    help="a study: the size of SDL's contrastive embedding instead of 128",
)
parser.add_argument(
    "--drop-rate",
    type=float,
    help="a study: the share of words (text) or features (Yeast) a view "
    "drops instead of the pipeline's (0.2 for text, 0.1 for Yeast)",
)
parser.add_argument(
    "--hidden-layers",
    type=int,
    help="an encoder study of text tasks: hidden layers of the bag-of-words "
    "encoder instead of 1, for SDL and BCE only alike",
)
parser.add_argument(
    "--plateau-decay",
    type=float,
    help="a study of both rows: the classifier's learning rate times this "
    "after each epoch without a better validation mAP instead of 1",
)
parser.add_argument(
    "--prior-bias",
    action="store_const",
    const=True,
    help="a study of both rows: the classifier's head starts from each "
    "label's training frequency instead of 0.5",
)
parser.add_argument(
    "--classifier-epochs",
    type=int,
    help="a study of both rows: the classifier's most epochs instead of 30 "
    "or 3,000 steps (early stopping still ends it)",
)
parser.add_argument(
    "--limit",
    type=int,
    help="a quick look: train both rows on this many training examples",
)
args = parser.parse_args()


def task_kind(name: str) -> str:
    return {"scenes": "image", "yeast": "tabular"}.get(TASKS[name][0]["task"], "text")


for option, (kinds, why) in PIPELINE_KINDS.items():
    if getattr(args, option) is not None and any(
        task_kind(name) not in kinds for name in args.tasks
    ):
        flag = "--" + option.replace("_", "-")
        parser.error(f"{flag} is for {' and '.join(sorted(kinds))} tasks: {why}")

"""
## Every task: SDL, BCE only, logistic regression, nearest neighbours
"""

lines = [
    "| task | row | "
    + " | ".join(METRICS)
    + " | blend shares (linear / neighbours) | minutes | pre-training loss |",
    "|---" * (len(METRICS) + 5) + "|",
]
study, views, both_rows, encoder = (
    {option: value for option in names if (value := getattr(args, option)) is not None}
    for names in (STUDIES, VIEW_STUDIES, BOTH_ROWS_STUDIES, ENCODER_STUDIES)
)
tags = STUDIES | VIEW_STUDIES | BOTH_ROWS_STUDIES | ENCODER_STUDIES


def runs_prefix(loss: str, options: dict) -> str:
    """`loss` and each studied option's tag and value, joined by `_`."""
    return "_".join(
        [loss, *(f"{tags[key]}{value:g}" for key, value in options.items())]
    )


sdl_runs = runs_prefix("sdl", study | views | both_rows | encoder)
none_runs = runs_prefix("none", both_rows | encoder)
studied = sdl_runs != "sdl"
for name in args.tasks:
    options, seeds = TASKS[name]
    seeds = args.seeds or seeds
    print(name, flush=True)
    sdl = [
        run(
            args.output_dir / name / f"{sdl_runs}_seed{seed}",
            views | encoder,
            **options,
            **study,
            **both_rows,
            loss="sdl",
            seed=seed,
            reference=not studied and seed == seeds[0],
        )
        for seed in seeds
    ]
    none = [
        run(
            args.output_dir / name / f"{none_runs}_seed{seed}",
            encoder,
            **options,
            **both_rows,
            loss="none",
            seed=seed,
            reference=False,
        )
        for seed in seeds
    ]
    sdl_row, none_row = row_names(sdl_runs, none_runs).values()
    if none_runs == "none":
        none_row = "BCE only (`--loss none`)"
    rows = {sdl_row: [m["sdl"] for m in sdl], none_row: [m["none"] for m in none]}
    if not studied:
        rows["logistic regression"] = [sdl[0][REFERENCE]]
    # Cheap, and the same for every study of one task but `--limit`.
    limit = {"limit": args.limit} if args.limit is not None else {}
    rows["10 nearest neighbours"] = [
        knn_reference(
            args.output_dir / name / f"{runs_prefix('knn', limit)}.json",
            **options,
            **limit,
        )
    ]
    for row, reports in rows.items():
        cells = mean_cells(reports, METRICS)
        share = ", ".join(filter(None, map(blend_shares, reports)))
        seconds = [r.get("seconds") for r in reports]
        minutes = "" if seconds[0] is None else f"{np.mean(seconds) / 60:.1f}"
        losses = [m["pretrain_loss"] for m in sdl] if row == sdl_row else []
        pretraining = (
            f"{np.mean([curve[0] for curve in losses]):.3f} → "
            f"{np.mean([curve[-1] for curve in losses]):.3f}"
            if losses
            else ""
        )
        lines.append(
            f"| {name} | {row} | "
            + " | ".join(cells)
            + f" | {share} | {minutes} | {pretraining} |"
        )
    differences = paired_cells(
        [m["sdl"] for m in sdl], [m["none"] for m in none], METRICS
    )
    lines.append(f"| {name} | SDL − BCE only | " + " | ".join(differences) + " | | | |")
table = "\n".join(lines)
print(table)
if args.report:
    args.report.write_text(table + "\n")
