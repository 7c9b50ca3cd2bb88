"""Step time fed by a tf.data pipeline against the same batches in memory."""

from __future__ import annotations

import json
import statistics
import time


def time_feeding(model, dataset, rounds: int) -> dict[str, float]:
    """Median seconds per `train_on_batch` step over `rounds` epochs fed by
    `dataset`, interleaved with epochs over the same number of batches held
    in memory, and `ratio`: the median over rounds of fed / in memory, each
    round's two epochs run back to back (paired in time, so a change in the
    machine's load between rounds cancels). Timed per epoch, iterator
    included: a pipeline that lags shows up as waiting between steps."""
    in_memory = [(x.numpy(), y.numpy()) for x, y in dataset]
    for x, y in in_memory + list(dataset):  # trace every shape before timing
        model.train_on_batch(x, y)
    seconds: dict[str, list[float]] = {"pipeline": [], "in memory": []}
    for _ in range(rounds):
        for name, batches in (("pipeline", dataset), ("in memory", in_memory)):
            start = time.perf_counter()
            for x, y in batches:
                model.train_on_batch(x, y)
            seconds[name].append((time.perf_counter() - start) / len(in_memory))
    ratios = [fed / held for fed, held in zip(*seconds.values(), strict=True)]
    return {
        **{name: statistics.median(values) for name, values in seconds.items()},
        "ratio": statistics.median(ratios),
        "lowest ratio": min(ratios),
        "highest ratio": max(ratios),
    }


def throughput(dataset, items: int) -> float:
    """Items per second of one pass over `dataset` alone."""
    start = time.perf_counter()
    for _ in dataset:
        pass
    return items / (time.perf_counter() - start)


def report(
    title: str, medians: dict[str, float], rates: str, path: str | None, **extra
):
    """Prints the step-time table and ratio (of `time_feeding`); writes them
    with `extra` as JSON."""
    print(title)
    print("| fed by | step ms (batch to batch) |")
    print("|---|---|")
    for name in ("pipeline", "in memory"):
        print(f"| {name} | {1e3 * medians[name]:.1f} |")
    print(
        f"ratio pipeline / in memory: {medians['ratio']:.3f} (goal ≤ 1.05; "
        f"rounds {medians['lowest ratio']:.3f}–{medians['highest ratio']:.3f})"
    )
    print(rates)
    if path:
        with open(path, "w") as handle:
            document = {"step_seconds": medians, **extra}
            json.dump(document, handle, indent=1)
