"""Step time fed by a tf.data pipeline against the same batches in memory."""

from __future__ import annotations

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
