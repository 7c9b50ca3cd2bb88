"""How every pipeline of the library ends: prefetched, autotuning off."""

from __future__ import annotations

import tensorflow as tf


def prefetched(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset` prefetched, with tf.data's autotuning off.

    Where the CPU that feeds also trains, autotuning slows training: on 2
    cores, whole epochs of `fit` ran at ~321 ms a step instead of ~175 (a
    small CNN, from a pipeline of images and from batches in memory alike:
    4 of 8 epochs on a cached dataset, none with autotuning off;
    `benchmarks/bench_autotuning.py` measures it). Without it, a map with
    `num_parallel_calls=AUTOTUNE` keeps its starting parallelism, the number
    of cores (at most 16). To tune anyway: `dataset.with_options(options)` with
    `options.autotune.enabled = True`.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(options)
