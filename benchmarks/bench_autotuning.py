"""Does tf.data's autotuning slow training on this CPU? Step time of `fit`
with it on and off.

    python benchmarks/bench_autotuning.py           # about three minutes
    python benchmarks/bench_autotuning.py --quick

The same batches held in memory (two views of 64×64 RGB images, random
pixels), fed to a small CNN in ContrastiveModel with SDL by `fit` three ways,
one epoch each in turn: a cached dataset with autotuning on (TensorFlow's
default), the same ending as the library's pipelines end
(`sdl_keras.data.prefetching.prefetched`: autotuning off), and NumPy arrays
given to `fit` (Keras's own adapter, which autotunes). Reported: each
epoch's milliseconds a step and the median; an epoch counts as stalled at
1.5× the fastest epoch of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import tensorflow as tf

from sdl_keras.data.prefetching import prefetched
from sdl_keras.encoders import small_cnn_image_encoder
from sdl_keras.losses import SimilarityDissimilarityLoss
from sdl_keras.models import ContrastiveModel, ProjectionHead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    count, batch, epochs = (128, 32, 2) if args.quick else (1024, 64, args.epochs)
    rng = np.random.default_rng(0)
    views = rng.random((count, 2, 64, 64, 3), dtype=np.float32) * 255
    labels = (rng.random((count, 10)) < 0.3).astype("float32")
    cached = tf.data.Dataset.from_tensor_slices((views, labels)).batch(batch).cache()
    feeds = {
        "cached dataset, autotuning on": {"x": cached.prefetch(tf.data.AUTOTUNE)},
        "cached dataset, `prefetched` (autotuning off)": {"x": prefetched(cached)},
        "NumPy arrays (Keras's adapter)": {
            "x": views,
            "y": labels,
            "batch_size": batch,
        },
    }
    keras.utils.set_random_seed(0)
    model = ContrastiveModel(
        small_cnn_image_encoder((64, 64, 3)), ProjectionHead(128, (256,))
    )
    model.compile(optimizer="adamw", loss=SimilarityDissimilarityLoss())
    steps = -(-count // batch)
    milliseconds: dict[str, list[float]] = {name: [] for name in feeds}
    for epoch in range(epochs + 1):  # the first epoch traces and fills the cache
        for name, data in feeds.items():
            start = time.perf_counter()
            model.fit(**data, epochs=1, verbose=0, shuffle=False)
            if epoch:
                milliseconds[name].append(1e3 * (time.perf_counter() - start) / steps)
    fastest = min(min(values) for values in milliseconds.values())
    print(f"{count} images an epoch, batch {batch} × 2 views, {epochs} epochs each")
    print("| fed by | ms a step, each epoch | median | stalled epochs |")
    print("|---|---|---|---|")
    for name, values in milliseconds.items():
        stalled = sum(value > 1.5 * fastest for value in values)
        each = ", ".join(f"{value:.0f}" for value in values)
        print(
            f"| {name} | {each} | {statistics.median(values):.0f} | "
            f"{stalled} of {len(values)} |"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"milliseconds_a_step": milliseconds}, handle, indent=1)


if __name__ == "__main__":
    main()
