"""What does choosing logistic regression's C on a sample of labels cost and
save? The default recipe's linear model, fitted on real many-label text.

    python benchmarks/bench_logreg.py                # about fifteen minutes
    python benchmarks/bench_logreg.py --levels 2     # about three

HPO definitions at levels 2 (155 labels) and 3 (842, median 3 documents a
label) with the default split and TF-IDF (`TextTask.reference_features`).
Each level fits `sdl_keras.references.fit_logistic_regression` two ways, in
turn on the same matrices: every C of `LOGREG_C` on every label (how the
grid was searched before), and C chosen on `C_CHOICE_LABELS` labels, every
label then fitted once at it (the default). Reported: seconds and their
ratio, the C each picks, validation and test mAP.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


from sdl_keras.metrics import mean_average_precision
from sdl_keras.references import (
    C_CHOICE_LABELS,
    LOGREG_C,
    _sigmoid,
    fit_logistic_regression,
)
from sdl_keras.run_config import RunConfig
from sdl_keras.tasks import load_task


def grid_rows(level: int) -> list[dict]:
    task = load_task(RunConfig(task="hpo", level=level))
    train, validation, test = task.train, task.validation, task.test
    x_train, x_validation, x_test = task.pipeline.reference_features(
        train, validation, test
    )
    rows = []
    for name, choice_labels in (
        ("every C, every label", None),
        ("default", C_CHOICE_LABELS),
    ):
        started = time.perf_counter()
        weights, bias, c, scores = fit_logistic_regression(
            x_train, train.y, x_validation, validation.y, LOGREG_C, choice_labels
        )
        seconds = time.perf_counter() - started
        rows.append(
            {
                "level": level,
                "labels": train.y.shape[1],
                "search": name,
                "seconds": seconds,
                "c": c,
                "validation_map": mean_average_precision(validation.y, scores),
                "test_map": mean_average_precision(
                    test.y, _sigmoid(x_test @ weights + bias)
                ),
            }
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    grids = [row for level in args.levels for row in grid_rows(level)]
    print(
        "\n| HPO level (labels) | C searched | seconds | C "
        "| validation mAP | test mAP |"
    )
    print("|---|---|---|---|---|---|")
    for row in grids:
        print(
            f"| {row['level']} ({row['labels']}) | {row['search']} | "
            f"{row['seconds']:.0f} | {row['c']:g} | {row['validation_map']:.4f} | "
            f"{row['test_map']:.4f} |"
        )
    for level in args.levels:
        every, default = (row["seconds"] for row in grids if row["level"] == level)
        print(f"level {level}: the default takes {default / every:.2f}x the time")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(grids, file, indent=2)


if __name__ == "__main__":
    main()
