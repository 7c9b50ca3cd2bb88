"""
Title: Quickstart: the Similarity-Dissimilarity Loss in model.compile
Author: the sdl_keras authors
Date created: 2026/11/28
Last modified: 2026/11/29
Description: Train an encoder with SDL and with ANY-SupCon on real multi-label data in a minute, and judge the embeddings by k-NN.
Accelerator: None
"""

"""
## Introduction

The losses of `sdl_keras.losses` are Keras losses: `model.compile(loss=...)`
with multi-hot labels `[B, L]` as `y` and the model's embeddings as the
prediction. Here an MLP encoder is trained on MULAN's Yeast data (offline:
it ships inside the `river` package) with SDL and, from the same initial
weights, with ANY-SupCon. Each embedding is judged by k-nearest-neighbour
multi-label classification (a test gene gets the mean label vector of its k
nearest training genes by cosine similarity, threshold 0.5), beside the same
k-NN on the standardised raw features.

    python examples/quickstart.py [--epochs 40] [--seed 0]
"""

"""
## Setup
"""

import argparse

import keras
import numpy as np

import sdl_keras
from sdl_keras.datasets.yeast import load_yeast, split_yeast

parser = argparse.ArgumentParser(description="SDL and ANY-SupCon on Yeast.")
parser.add_argument("--epochs", type=int, default=40)
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--temperature", type=float, default=0.1)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

"""
## The encoder and how embeddings are judged
"""


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


"""
## The data

The seeded 1,500/917 split, standardised with the training statistics.
"""

features, labels, _ = load_yeast()
(x_train, y_train), (x_test, y_test) = split_yeast(features, labels)
mean, std = x_train.mean(0), x_train.std(0) + 1e-6
x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
print(
    f"Yeast: {len(x_train)} train, {len(x_test)} test genes, "
    f"{labels.shape[1]} labels, {labels.sum(1).mean():.2f} labels a gene"
)

"""
## Training with each loss

`y` is the multi-hot label matrix; the loss normalises the embeddings and
weighs each pair of genes by the labels they share.
"""

rows = {"raw features (k-NN)": f1_scores(y_test, knn_scores(x_train, y_train, x_test))}
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
        encoder.predict(x_train, verbose=0), y_train, encoder.predict(x_test, verbose=0)
    )
    rows[f"{name} embedding (k-NN)"] = f1_scores(y_test, scores)
    print(
        f"{name}: contrastive loss {history.history['loss'][0]:.3f} -> "
        f"{history.history['loss'][-1]:.3f} over {args.epochs} epochs"
    )

"""
## Results
"""

print("\n| representation | micro-F1 | macro-F1 |\n|---|---|---|")
for name, (micro, macro) in rows.items():
    print(f"| {name} | {micro:.4f} | {macro:.4f} |")
