"""The small CNN's block order: pooling before or after batch normalisation.

    python benchmarks/bench_image_encoder.py           # full (about three minutes)
    python benchmarks/bench_image_encoder.py --quick   # fewer rounds

`sdl_keras.encoders.small_cnn_image_encoder` max-pools each convolution's
output before batch normalisation and ReLU, which then run on a quarter of
the values. The former order (convolution, batch normalisation, ReLU, then
pooling) is built here beside it with the same widths, and both take the same
fine-tuning step (`MultiLabelClassifier`, BCE, AdamW) on the same batch, in
turn, round after round: N = 256 images is what one pre-training step of 128
images in two views puts through the encoder. Reported are medians over
rounds and the former order's time over the library's.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
from bench_train_step import time_side_by_side

from sdl_keras.encoders import small_cnn_image_encoder
from sdl_keras.models import MultiLabelClassifier

NUM_LABELS = 20
WIDTHS = (32, 64, 128)


def normalise_then_pool(shape: tuple[int, ...]) -> keras.Model:
    inputs = keras.Input(shape)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    for width in WIDTHS:
        x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=0.9)(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D()(x)
    outputs = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, outputs, name="normalise_then_pool")


def contenders(shape: tuple[int, ...], inputs: int, rng) -> dict:
    """name → (classifier, x, y) on the same batch."""
    x = rng.integers(0, 256, (inputs, *shape)).astype("float32")
    y = (rng.random((inputs, NUM_LABELS)) < 0.15).astype("float32")
    steps = {}
    for name, encoder in (
        ("normalise, then pool", normalise_then_pool(shape)),
        ("pool, then normalise", small_cnn_image_encoder(shape, WIDTHS)),
    ):
        classifier = MultiLabelClassifier(encoder, NUM_LABELS, mode="fine_tune")
        classifier.compile(optimizer="adamw")
        steps[name] = (classifier, x, y)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    rounds = 5 if args.quick else args.rounds
    rng = np.random.default_rng(0)
    results = {}
    print(f"median of {rounds} interleaved rounds of one training step, N = 256")
    print("| images | normalise, then pool ms | pool, then normalise ms | ratio |")
    print("|---|---|---|---|")
    for shape in ((28, 28, 1), (48, 48, 3), (64, 64, 3)):
        medians = time_side_by_side(contenders(shape, 256, rng), rounds)
        before, after = medians["normalise, then pool"], medians["pool, then normalise"]
        results["×".join(map(str, shape))] = medians
        print(
            f"| {'×'.join(map(str, shape))} | {1e3 * before:.0f} | "
            f"{1e3 * after:.0f} | **{before / after:.2f}** |",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"rounds": rounds, "results": results}, handle, indent=1)


if __name__ == "__main__":
    main()
