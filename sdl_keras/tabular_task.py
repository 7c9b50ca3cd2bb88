"""The pieces a tabular task hands to `run_two_stage`: an MLP and noisy views."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from sdl_keras.datasets.yeast import load_yeast, split_yeast
from sdl_keras.two_stage import Split


@dataclasses.dataclass(frozen=True)
class TabularTask:
    """MLP encoder and view maker for standardised feature vectors.

    Attributes:
        num_features: width of a feature vector.
        hidden: width of the hidden layer.
        features: width of the encoder's output.
        noise: standard deviation of the Gaussian noise of a view.
        drop_rate: share of features zeroed in a view.
    """

    num_features: int
    hidden: int = 256
    features: int = 128
    noise: float = 0.3
    drop_rate: float = 0.1

    def make_encoder(self) -> keras.Model:
        inputs = keras.Input((self.num_features,))
        hidden = keras.layers.Dense(self.hidden, activation="relu")(inputs)
        hidden = keras.layers.Dropout(0.3)(hidden)
        outputs = keras.layers.Dense(self.features, activation="relu")(hidden)
        return keras.Model(inputs, outputs, name="encoder")

    def make_augmentation(self) -> keras.layers.Layer:
        return keras.Sequential(
            [
                keras.layers.GaussianNoise(self.noise),
                keras.layers.Dropout(self.drop_rate),
            ],
            name="views",
        )


def yeast_splits(num_validation: int = 300) -> tuple[Split, Split, Split]:
    """Yeast's seeded 1,500/917 train/test split, standardised with the
    training statistics; `num_validation` training genes held out."""
    features, labels, _ = load_yeast()
    (x_train, y_train), (x_test, y_test) = split_yeast(features, labels)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    order = np.random.default_rng(0).permutation(len(x_train))
    held, kept = order[:num_validation], order[num_validation:]
    return (
        Split(x_train[kept], y_train[kept]),
        Split(x_train[held], y_train[held]),
        Split(x_test, y_test),
    )
