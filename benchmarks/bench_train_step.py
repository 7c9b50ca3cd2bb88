"""Training-step time of contrastive + BCE against BCE alone, side by side.

    python benchmarks/bench_train_step.py           # full (about two minutes)
    python benchmarks/bench_train_step.py --quick   # fewer rounds

For an MLP (103 features, like Yeast) and a small CNN (32×32 RGB), three steps
on the same encoder architecture and initial weights:
- `bce`: MultiLabelClassifier, BCE on N encoded inputs;
- `contrastive+bce`: ContrastiveModel with SDL and λ·BCE, N/2 samples × 2
  views, so the encoder sees the same N inputs: the ratio is what the
  projection head, the loss and the joint head add;
- `contrastive+bce, 2N`: N samples × 2 views: the full price of a second view.

Each round times one `train_on_batch` of every contender in turn (machine
noise hits all alike); reported are medians over rounds and their ratios.
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

from sdl_keras.losses import SimilarityDissimilarityLoss
from sdl_keras.models import ContrastiveModel, MultiLabelClassifier, ProjectionHead

NUM_LABELS = 20


def mlp() -> keras.Model:
    inputs = keras.Input((103,))
    hidden = keras.layers.Dense(256, activation="relu")(inputs)
    outputs = keras.layers.Dense(128, activation="relu")(hidden)
    return keras.Model(inputs, outputs, name="mlp")


def small_cnn() -> keras.Model:
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for filters in (32, 64, 128):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    outputs = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, outputs, name="small_cnn")


ENCODERS = {"mlp": (mlp, (103,), 512), "cnn": (small_cnn, (32, 32, 3), 128)}


def contenders(make_encoder, sample_shape, inputs: int, rng) -> dict:
    """name → (model, x, y), every model from the same initial encoder."""
    keras.utils.set_random_seed(0)
    initial = make_encoder().get_weights()

    def encoder():
        model = make_encoder()
        model.set_weights(initial)
        return model

    def labels(count):
        return (rng.random((count, NUM_LABELS)) < 0.15).astype("float32")

    def contrastive(samples):
        model = ContrastiveModel(
            encoder(),
            ProjectionHead(128, (256,)),
            num_labels=NUM_LABELS,
            classification_weight=1.0,
        )
        model.compile(optimizer="adamw", loss=SimilarityDissimilarityLoss())
        views = rng.normal(size=(samples, 2, *sample_shape)).astype("float32")
        return model, views, labels(samples)

    bce = MultiLabelClassifier(encoder(), NUM_LABELS, mode="fine_tune")
    bce.compile(optimizer="adamw")
    single = rng.normal(size=(inputs, *sample_shape)).astype("float32")
    return {
        "bce": (bce, single, labels(inputs)),
        "contrastive+bce": contrastive(inputs // 2),
        "contrastive+bce, 2N": contrastive(inputs),
    }


def time_side_by_side(steps: dict, rounds: int) -> dict:
    for model, x, y in steps.values():
        for _ in range(3):  # trace and warm up
            model.train_on_batch(x, y)
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, (model, x, y) in steps.items():
            start = time.perf_counter()
            model.train_on_batch(x, y)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    rounds = 8 if args.quick else args.rounds
    rng = np.random.default_rng(0)
    results = {}
    print(f"median of {rounds} interleaved rounds; N = inputs through the encoder")
    print("| encoder | N | bce ms | contrastive+bce ms | ratio | 2N views ms | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, (make_encoder, shape, inputs) in ENCODERS.items():
        medians = time_side_by_side(
            contenders(make_encoder, shape, inputs, rng), rounds
        )
        base = medians["bce"]
        results[name] = {"inputs": inputs, "seconds": medians}
        print(
            f"| {name} | {inputs} | {1e3 * base:.1f} | "
            f"{1e3 * medians['contrastive+bce']:.1f} | "
            f"{medians['contrastive+bce'] / base:.2f} | "
            f"{1e3 * medians['contrastive+bce, 2N']:.1f} | "
            f"{medians['contrastive+bce, 2N'] / base:.2f} |",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"rounds": rounds, "results": results}, handle, indent=1)


if __name__ == "__main__":
    main()
