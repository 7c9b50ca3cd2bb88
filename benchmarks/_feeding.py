"""Step time fed by a tf.data pipeline against the same batches in memory."""

from __future__ import annotations

import json
import statistics
import time

import numpy as np
import tensorflow as tf

from sdl_keras.data.prefetching import prefetched


def time_feeding(model, dataset, rounds: int) -> dict:
    """Median seconds per step of `rounds` epochs of `model.fit` fed by
    `dataset`, interleaved with epochs of `fit` over the same batches held in
    memory (a cached dataset of arrays, as `fit` reads arrays, ending as the
    library's pipelines end: `prefetched`), and `ratio`: the median over
    rounds of fed / in memory, each round's two epochs run back to back
    (paired in time, so a change in the machine's load between rounds
    cancels), with the lowest and highest round and every round's ratio.
    Timed per epoch, iterator included: a pipeline that lags shows up as
    waiting between steps."""
    batches = [(x.numpy(), y.numpy()) for x, y in dataset]
    in_memory = (
        tf.data.Dataset.from_tensor_slices(
            tuple(np.concatenate(parts) for parts in zip(*batches, strict=True))
        )
        .batch(len(batches[0][0]))
        .cache()
    )
    # The same tf.data options as the library's pipelines: like for like.
    in_memory = prefetched(in_memory)
    for batches_of_epoch in (in_memory, dataset, in_memory):  # trace, fill cache
        model.fit(batches_of_epoch, epochs=1, verbose=0, shuffle=False)
    seconds: dict[str, list[float]] = {"pipeline": [], "in memory": []}
    for _ in range(rounds):
        for name, batches_of_epoch in (("pipeline", dataset), ("in memory", in_memory)):
            start = time.perf_counter()
            model.fit(batches_of_epoch, epochs=1, verbose=0, shuffle=False)
            seconds[name].append((time.perf_counter() - start) / len(batches))
    ratios = [fed / held for fed, held in zip(*seconds.values(), strict=True)]
    return {
        **{name: statistics.median(values) for name, values in seconds.items()},
        "ratio": statistics.median(ratios),
        "lowest ratio": min(ratios),
        "highest ratio": max(ratios),
        "round ratios": ratios,
    }


def throughput(dataset, items: int) -> float:
    """Items per second of one pass over `dataset` alone."""
    start = time.perf_counter()
    for _ in dataset:
        pass
    return items / (time.perf_counter() - start)


def cpu_per_batch(dataset, passes: int = 5) -> float:
    """Median CPU seconds (every thread of the process) a batch of `passes`
    passes over `dataset` alone: what a pipeline takes from a training step
    that runs on the same cores, steadier than wall time on a shared
    machine."""
    seconds = []
    for _ in range(passes):
        start, batches = time.process_time(), 0
        for _ in dataset:
            batches += 1
        seconds.append((time.process_time() - start) / batches)
    return statistics.median(seconds)


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
