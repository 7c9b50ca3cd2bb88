"""Quickstart: SDL pre-training on the real MULAN Yeast data, offline.

    python examples/quickstart.py [--epochs 40] [--seed 0]

An MLP encoder is trained with `model.compile(loss=SDL())` and, from the same
initial weights, with ANY-SupCon. Each embedding is then judged by k-nearest-
neighbour multi-label classification (a test gene gets the mean label vector
of its k nearest training genes, cosine similarity, threshold 0.5), beside the
same k-NN on the standardised raw features.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

import sdl_keras
from sdl_keras.datasets.yeast import load_yeast, split_yeast


def build_encoder(num_features: int, seed: int) -> keras.Model:
    initializer = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input((num_features,))
    hidden = keras.layers.Dense(256, "relu", kernel_initializer=initializer)(inputs)
    hidden = keras.layers.Dropout(0.2, seed=seed)(hidden)
    outputs = keras.layers.Dense(64, kernel_initializer=initializer)(hidden)
    return keras.Model(inputs, outputs, name="encoder")


def knn_scores(train_embed, train_labels, test_embed, k: int = 15) -> np.ndarray:
    def unit(x):
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    similarity = unit(test_embed) @ unit(train_embed).T
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    return train_labels[nearest].mean(axis=1)


def f1_scores(labels, scores) -> tuple[float, float]:
    results = []
    for average in ("micro", "macro"):
        metric = keras.metrics.F1Score(average=average, threshold=0.5)
        metric.update_state(labels, scores.astype("float32"))
        results.append(float(metric.result()))
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    features, labels, _ = load_yeast()
    (x_train, y_train), (x_test, y_test) = split_yeast(features, labels)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    print(
        f"Yeast: {len(x_train)} train, {len(x_test)} test genes, "
        f"{labels.shape[1]} labels, {labels.sum(1).mean():.2f} labels a gene"
    )

    rows = {
        "raw features (k-NN)": f1_scores(y_test, knn_scores(x_train, y_train, x_test))
    }
    for name, loss in [
        ("ANY-SupCon", sdl_keras.losses.ANYSupConLoss),
        ("SDL", sdl_keras.losses.SimilarityDissimilarityLoss),
    ]:
        keras.utils.set_random_seed(args.seed)
        encoder = build_encoder(x_train.shape[1], args.seed)
        encoder.compile(
            optimizer=keras.optimizers.AdamW(1e-3),
            loss=loss(temperature=args.temperature),
        )
        history = encoder.fit(
            x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=0
        )
        scores = knn_scores(
            encoder.predict(x_train, verbose=0),
            y_train,
            encoder.predict(x_test, verbose=0),
        )
        rows[f"{name} embedding (k-NN)"] = f1_scores(y_test, scores)
        print(
            f"{name}: contrastive loss {history.history['loss'][0]:.3f} -> "
            f"{history.history['loss'][-1]:.3f} over {args.epochs} epochs"
        )

    print("\n| representation | micro-F1 | macro-F1 |\n|---|---|---|")
    for name, (micro, macro) in rows.items():
        print(f"| {name} | {micro:.4f} | {macro:.4f} |")


if __name__ == "__main__":
    main()
