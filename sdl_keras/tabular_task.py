"""The input pipeline of feature vectors: an MLP, noisy views, saved state."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from sdl_keras.data.prefetching import prefetched
from sdl_keras.datasets.yeast import load_yeast, split_yeast
from sdl_keras.input_pipeline import InputPipeline
from sdl_keras.two_stage import Split


@dataclasses.dataclass(frozen=True)
class TabularTask(InputPipeline):
    """MLP encoder and view maker for feature vectors.

    The encoder standardises its inputs with the training statistics
    (`mean`, `std`), so a saved model takes raw feature vectors.

    Attributes:
        num_features: width of a feature vector.
        hidden: width of the hidden layer.
        features: width of the encoder's output.
        noise: standard deviation of the Gaussian noise of a view.
        drop_rate: share of features zeroed in a view.
        mean, std: training statistics of each feature (default 0 and 1).
        feature_names: names of the feature columns, in order.
        batch_size: vectors per batch of `make_dataset`.
    """

    kind = "tabular"

    num_features: int
    hidden: int = 256
    features: int = 128
    noise: float = 0.3
    drop_rate: float = 0.1
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    feature_names: tuple[str, ...] | None = None
    batch_size: int = 128

    @classmethod
    def build(
        cls, train_features: np.ndarray, feature_names=None, batch_size: int = 128
    ) -> TabularTask:
        """A task standardising with the statistics of `train_features`."""
        values = np.asarray(train_features, "float64")
        return cls(
            values.shape[1],
            mean=tuple(values.mean(0).tolist()),
            std=tuple((values.std(0) + 1e-6).tolist()),
            feature_names=None if feature_names is None else tuple(feature_names),
            batch_size=batch_size,
        )

    def make_encoder(self) -> keras.Model:
        inputs = keras.Input((self.num_features,))
        hidden = keras.layers.Dense(self.hidden, activation="relu")(
            self._standardise()(inputs)
        )
        hidden = keras.layers.Dropout(0.3)(hidden)
        outputs = keras.layers.Dense(self.features, activation="relu")(hidden)
        return keras.Model(inputs, outputs, name="encoder")

    def make_augmentation(self) -> keras.layers.Layer:
        # Noise and dropout in standard units, returned to the raw scale the
        # encoder takes.
        return keras.Sequential(
            [
                keras.Input((self.num_features,)),
                self._standardise(),
                keras.layers.GaussianNoise(self.noise),
                keras.layers.Dropout(self.drop_rate),
                self._standardise(invert=True),
            ],
            name="views",
        )

    def linear_features(self) -> keras.Model:
        """The standardised features."""
        return keras.Sequential(
            [keras.Input((self.num_features,)), self._standardise()],
            name="standardised",
        )

    def _standardise(self, invert: bool = False) -> keras.layers.Normalization:
        mean = np.zeros(self.num_features) if self.mean is None else self.mean
        std = np.ones(self.num_features) if self.std is None else self.std
        return keras.layers.Normalization(
            mean=list(mean), variance=list(np.square(std)), invert=invert
        )

    def run_arguments(self) -> dict[str, Any]:
        # Views are drawn inside the model from in-memory vectors, not by a
        # dataset.
        arguments = super().run_arguments()
        del arguments["make_dataset"]
        return arguments | {"make_augmentation": self.make_augmentation}

    def make_dataset(self, split, purpose: str, seed: int) -> tf.data.Dataset:
        dataset = tf.data.Dataset.from_tensor_slices(
            (np.asarray(split.x, "float32"), np.asarray(split.y, "float32"))
        )
        if purpose != "evaluate":
            dataset = dataset.shuffle(len(split.x), seed=seed)
        return prefetched(dataset.batch(self.batch_size))

    def serving_preprocessor(self):
        return None  # feature vectors have no raw form to serve

    def reference_features(self, train, *splits) -> list:
        mean = 0.0 if self.mean is None else np.asarray(self.mean)
        std = 1.0 if self.std is None else np.asarray(self.std)
        return [(np.asarray(s.x) - mean) / std for s in (train, *splits)]

    def state(self, directory: Path) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_state(cls, state: dict, directory: Path) -> TabularTask:
        options: dict[str, Any] = dict(state)
        for key in ("mean", "std", "feature_names"):
            if options[key]:
                options[key] = tuple(options[key])
        return cls(**options)


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
