"""How long the linear part of the default recipe takes: labels fitted one
after another against side by side.

    python benchmarks/bench_linear.py           # about three minutes
    python benchmarks/bench_linear.py --quick

Binary-relevance logistic regression (liblinear, one model per label) on
the TF-IDF the default recipe and the reference fit it on (scikit-learn's
`TfidfVectorizer`, words and bigrams), HPO level 2 (12,673 term definitions,
155 labels; `--quick`: level 1, 23 labels), at C = 4. Each round fits every
label with one thread, then with one thread a CPU core
(`sdl_keras.references.fit_logistic_regression(n_jobs=...)`); reported:
median seconds, their ratio, and the largest difference between the two
sets of weights (they must be the same model).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from sdl_keras.references import fit_logistic_regression
from sdl_keras.run_config import RunConfig
from sdl_keras.tasks import load_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    level, rounds = (1, 1) if args.quick else (2, args.rounds)
    task = load_task(RunConfig(task="hpo", level=level))
    x_train, x_validation = task.pipeline.reference_features(
        task.train, task.validation
    )
    seconds: dict[int, list[float]] = {1: [], -1: []}
    weights = {}
    for _ in range(rounds):
        for n_jobs in seconds:  # interleaved: the machine's load hits both
            started = time.perf_counter()
            weights[n_jobs] = fit_logistic_regression(
                x_train, task.train.y, x_validation, task.validation.y, (4.0,), n_jobs
            )[0]
            seconds[n_jobs].append(time.perf_counter() - started)
    one, all_cores = (float(np.median(seconds[n])) for n in (1, -1))
    results = {
        "documents": len(task.train.y),
        "labels": int(task.train.y.shape[1]),
        "cores": os.cpu_count(),
        "one_thread_s": round(one, 2),
        "thread_per_core_s": round(all_cores, 2),
        "ratio": round(all_cores / one, 3),
        "largest_weight_difference": float(np.abs(weights[1] - weights[-1]).max()),
    }
    print(
        f"HPO level {level}: {results['documents']} documents, "
        f"{results['labels']} labels, {results['cores']} cores, median of {rounds}"
    )
    print("| labels fitted | seconds | ratio |")
    print("|---|---|---|")
    print(f"| one after another | {one:.1f} | 1.00 |")
    print(f"| one thread a core | {all_cores:.1f} | {all_cores / one:.2f} |")
    print(f"largest weight difference: {results['largest_weight_difference']:.1e}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=1)


if __name__ == "__main__":
    main()
