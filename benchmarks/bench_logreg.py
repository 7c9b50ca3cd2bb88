"""What does choosing logistic regression's C on a sample of labels cost and
save? The default recipe's linear model, fitted on real many-label text.

    python benchmarks/bench_logreg.py                # about six minutes
    python benchmarks/bench_logreg.py --levels 2     # about one

HPO definitions at levels 2 (155 labels) and 3 (842, median 3 documents a
label) with the default split and TF-IDF (`TextTask.reference_features`).
Each level fits `sdl_keras.references.fit_logistic_regression` five ways, in
turn on the same matrices: C searched on every label (how it was chosen
before), C chosen on 64 labels, and on `C_CHOICE_LABELS`
(the default), every label then fitted once at it — the default also in
one process instead of one worker process per core, and in threads (which
contend). Reported: seconds and their ratios, the
C each picks, validation and test mAP; and on the
default's validation scores, the mAP of 100 bootstrap resamples (how the
blend's share is chosen) from one sort against one mAP a resample.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
from joblib import parallel_config
from scipy import special

from sdl_keras.metrics import mean_average_precision, resampled_mean_average_precision
from sdl_keras.references import (
    C_CHOICE_LABELS,
    LOGREG_C,
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
    # Start the worker processes (each imports scikit-learn) before timing.
    fit_logistic_regression(
        x_train, train.y[:, :2], x_validation, validation.y[:, :2], LOGREG_C[:1]
    )
    rows = []
    for name, choice_labels, n_jobs, backend in (
        ("C searched on every label", None, -1, "loky"),
        ("C on 64 labels", 64, -1, "loky"),
        ("default, one process", C_CHOICE_LABELS, 1, "loky"),
        ("default, threads", C_CHOICE_LABELS, -1, "threading"),
        ("default", C_CHOICE_LABELS, -1, "loky"),
    ):
        started = time.perf_counter()
        with parallel_config(backend=backend):
            weights, bias, c, scores = fit_logistic_regression(
                x_train,
                train.y,
                x_validation,
                validation.y,
                LOGREG_C,
                choice_labels,
                n_jobs,
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
                    test.y, special.expit(x_test @ weights + bias)
                ),
            }
        )
        print(rows[-1], flush=True)
    rows[-1] |= resampling_seconds(validation.y, scores)
    return rows


def resampling_seconds(y, scores, resamples: int = 100) -> dict:
    """mAP of bootstrap resamples, as the blend's share is chosen: one sort
    for all of them against one `mean_average_precision` a resample."""
    rows = np.random.default_rng(0).integers(0, len(y), (resamples, len(y)))
    started = time.perf_counter()
    together = resampled_mean_average_precision(y, scores, rows)
    one_sort = time.perf_counter() - started
    started = time.perf_counter()
    apart = [mean_average_precision(y[r], scores[r]) for r in rows]
    each = time.perf_counter() - started
    np.testing.assert_allclose(together, apart, rtol=1e-9)
    return {"resampled_one_sort_seconds": one_sort, "resampled_each_seconds": each}


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
        seconds = {
            row["search"]: row["seconds"] for row in grids if row["level"] == level
        }
        default = seconds["default"]
        ratios = ", ".join(
            f"{default / seconds[other]:.2f}x the time of {other}"
            for other in ("C searched on every label", "default, one process")
        )
        threads = seconds["default, threads"] / seconds["default, one process"]
        print(
            f"level {level}: the default takes {ratios}; threads take "
            f"{threads:.2f}x the time of one process"
        )
    print("\n| HPO level | 100 resamples' mAP: one sort | a sort each | ratio |")
    print("|---|---|---|---|")
    for row in grids:
        if "resampled_each_seconds" in row:
            one, each = row["resampled_one_sort_seconds"], row["resampled_each_seconds"]
            print(f"| {row['level']} | {one:.1f} s | {each:.1f} s | {one / each:.2f} |")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(grids, file, indent=2)


if __name__ == "__main__":
    main()
