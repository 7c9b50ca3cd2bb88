"""How every pipeline of the library ends: prefetched, autotuning off."""

from __future__ import annotations

import tensorflow as tf


def prefetched(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset` prefetched, with tf.data's autotuning off.

    Where the CPU that feeds also trains, autotuning slows training: on 2
    cores, `fit` ran most epochs at 1.8× the step time (321 against 175 ms,
    a small CNN, for a pipeline of images and for batches already in memory
    alike) and none with autotuning off (`benchmarks/bench_image_pipeline.py`
    measures it). Without it, a map with `num_parallel_calls=AUTOTUNE` keeps
    its starting parallelism, the number of cores (at most 16). To tune
    anyway: `dataset.with_options(options)` with
    `options.autotune.enabled = True`.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(options)
