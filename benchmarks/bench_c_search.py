"""Which C does the linear model's search choose, at what cost and score?

    python benchmarks/bench_c_search.py                      # about ten minutes
    python benchmarks/bench_c_search.py --tasks yeast hpo    # about two

On every offline task with a linear part (Yeast's features, TF-IDF of words
and bigrams for the text tasks, the default split), logistic regression is
fitted at every C of `LOGREG_C` on every label, one C at a time (timed).
From those fits: the C that validation mAP prefers among C ≤ 256 (the grid
before 2026-12-04) and over the whole grid. Then `fit_logistic_regression`
itself, as the default recipe calls it (timed): its search from the
largest C down, stopping at the first C scoring below the best (above
`C_CHOICE_LABELS` labels on a sample of labels, so its C may differ from
the every-label curve's). Reported per task: the
validation and test mAP of every C, each choice with its test mAP, and the
seconds of the whole grid against the default's.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from scipy import special

from sdl_keras.metrics import mean_average_precision
from sdl_keras.references import LOGREG_C, fit_logistic_regression
from sdl_keras.run_config import RunConfig
from sdl_keras.tasks import load_task

TASKS = {
    "yeast": {"task": "yeast"},
    "reuters": {"task": "reuters"},
    "hpo": {"task": "hpo", "level": 1},
    "hpo2": {"task": "hpo", "level": 2},
    "hpo3": {"task": "hpo", "level": 3},
    "newsgroups": {"task": "newsgroups"},
}
PREVIOUS_LARGEST_C = 256.0


def task_row(name: str) -> dict:
    task = load_task(RunConfig(**TASKS[name]))
    train, validation, test = task.train, task.validation, task.test
    x_train, x_validation, x_test = task.pipeline.reference_features(
        train, validation, test
    )

    def fitted(candidates):
        started = time.perf_counter()
        weights, bias, c, scores = fit_logistic_regression(
            x_train, train.y, x_validation, validation.y, candidates
        )
        return {
            "c": c,
            "seconds": time.perf_counter() - started,
            "validation_map": mean_average_precision(validation.y, scores),
            "test_map": mean_average_precision(
                test.y, special.expit(x_test @ weights + bias)
            ),
        }

    fitted(LOGREG_C[:1])  # starts the worker processes before timing
    every = {c: fitted((c,)) for c in LOGREG_C}
    curve = {c: fit["validation_map"] for c, fit in every.items()}
    previous = max(
        (c for c in LOGREG_C if c <= PREVIOUS_LARGEST_C), key=lambda c: curve[c]
    )
    choices = {
        "grid to 256": previous,
        "whole grid": max(LOGREG_C, key=lambda c: curve[c]),
    }
    row = {
        "task": name,
        "labels": train.y.shape[1],
        "every_c": {str(c): fit for c, fit in every.items()},
        "choices": {k: {"c": c, **every[c]} for k, c in choices.items()},
        "grid_seconds": sum(fit["seconds"] for fit in every.values()),
        "default": fitted(LOGREG_C),
    }
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    rows = [task_row(name) for name in args.tasks]
    columns = "".join(f" {c:g} |" for c in LOGREG_C)
    print(f"\nvalidation / test mAP at each C\n\n| task (labels) |{columns}")
    print("|---|" + "---|" * len(LOGREG_C))
    for row in rows:
        cells = "".join(
            f" {fit['validation_map']:.4f} / {fit['test_map']:.4f} |"
            for fit in row["every_c"].values()
        )
        print(f"| {row['task']} ({row['labels']}) |{cells}")
    print(
        "\n| task | C ≤ 256: C, test mAP | whole grid "
        "| default (the search): C, test mAP | seconds: whole grid, default |"
    )
    print("|---|---|---|---|---|")
    for row in rows:
        cells = "".join(
            f" {choice['c']:g}, {choice['test_map']:.4f} |"
            for choice in row["choices"].values()
        )
        default = row["default"]
        print(
            f"| {row['task']} |{cells} {default['c']:g}, {default['test_map']:.4f} "
            f"| {row['grid_seconds']:.0f}, {default['seconds']:.0f} |"
        )
    if args.json:
        with open(args.json, "w") as file:
            json.dump(rows, file, indent=2)


if __name__ == "__main__":
    main()
