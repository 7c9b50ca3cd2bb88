"""Step time fed by a tf.data pipeline against the same batches in memory."""

from __future__ import annotations

import json
import statistics
import time


def time_feeding(model, dataset, rounds: int) -> dict[str, float]:
    """Median seconds per `train_on_batch` step over `rounds` epochs fed by
    `dataset`, interleaved with epochs over the same number of batches held
    in memory. Timed per epoch, iterator included: a pipeline that lags shows
    up as waiting between steps."""
    in_memory = [(x.numpy(), y.numpy()) for x, y in dataset]
    for x, y in in_memory + list(dataset):  # trace every shape before timing
        model.train_on_batch(x, y)
    seconds = {"pipeline": [], "in memory": []}
    for _ in range(rounds):
        for name, batches in (("pipeline", dataset), ("in memory", in_memory)):
            start = time.perf_counter()
            for x, y in batches:
                model.train_on_batch(x, y)
            seconds[name].append((time.perf_counter() - start) / len(in_memory))
    return {name: statistics.median(values) for name, values in seconds.items()}


def throughput(dataset, items: int) -> float:
    """Items per second of one pass over `dataset` alone."""
    start = time.perf_counter()
    for _ in dataset:
        pass
    return items / (time.perf_counter() - start)


def report(
    title: str, medians: dict[str, float], rates: str, path: str | None, **extra
):
    """Prints the step-time table and ratio; writes them with `extra` as JSON."""
    ratio = medians["pipeline"] / medians["in memory"]
    print(title)
    print("| fed by | step ms (batch to batch) |")
    print("|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {1e3 * value:.1f} |")
    print(f"ratio pipeline / in memory: {ratio:.3f} (goal ≤ 1.05)")
    print(rates)
    if path:
        with open(path, "w") as handle:
            document = {"step_seconds": medians, "ratio": ratio, **extra}
            json.dump(document, handle, indent=1)
