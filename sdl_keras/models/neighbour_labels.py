"""Label scores from the nearest stored examples in an embedding space."""

from __future__ import annotations

import keras
from keras import ops

from sdl_keras._checks import check_label_values
from sdl_keras.losses.weighted_supcon import l2_normalize


@keras.saving.register_keras_serializable(package="sdl_keras")
class NeighbourLabels(keras.layers.Layer):
    """The mean multi-hot labels of the `k` stored examples nearest by cosine
    similarity: label scores in [0, 1] from an encoder's features, what a
    contrastively trained embedding is shaped for.

    The stored embeddings (float32) and labels (one byte each: a quarter of
    the size in the saved and served model, where labels often outnumber the
    features) are non-trainable weights set with `store`, so the layer
    saves, loads and serves with the model; scores are float32.

    Args:
        num_keys: stored examples N.
        feature_dim: size F of an embedding.
        num_labels: labels L.
        k: neighbours a score averages over. Defaults to 10.
        **kwargs: `Layer` arguments (`name`, ...); `dtype` defaults to
            `"float32"`.

    Examples:

    >>> import numpy as np
    >>> layer = NeighbourLabels(num_keys=3, feature_dim=2, num_labels=2, k=2)
    >>> keys = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    >>> layer.store(keys, np.array([[1, 0], [1, 1], [0, 1]]))
    >>> np.asarray(layer(np.array([[2.0, 0.2]], "float32"))).tolist()
    [[1.0, 0.5]]
    """

    def __init__(
        self,
        num_keys: int,
        feature_dim: int,
        num_labels: int,
        k: int = 10,
        **kwargs,
    ) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for name, value in (
            ("num_keys", num_keys),
            ("feature_dim", feature_dim),
            ("num_labels", num_labels),
            ("k", k),
        ):
            if int(value) != value or value < 1:
                raise ValueError(f"`{name}` must be an integer ≥ 1; received {value}.")
        if k > num_keys:
            raise ValueError(
                f"`k` ({k}) must not exceed the stored examples `num_keys` "
                f"({num_keys})."
            )
        self.num_keys = int(num_keys)
        self.feature_dim = int(feature_dim)
        self.num_labels = int(num_labels)
        self.k = int(k)
        self.keys = self.add_weight(
            shape=(self.num_keys, self.feature_dim),
            initializer="zeros",
            trainable=False,
            name="keys",
        )
        self.key_labels = self.add_weight(
            shape=(self.num_keys, self.num_labels),
            initializer="zeros",
            dtype="uint8",
            trainable=False,
            name="key_labels",
        )
        self.built = True

    def store(self, embeddings, labels) -> None:
        """Stores `embeddings` `[N, F]` (L2-normalised here) and their
        multi-hot `labels` `[N, L]` (0 or 1)."""
        embeddings = ops.convert_to_tensor(embeddings, "float32")
        labels = ops.convert_to_tensor(labels)
        expected = {
            "embeddings": (self.num_keys, self.feature_dim),
            "labels": (self.num_keys, self.num_labels),
        }
        for name, value in (("embeddings", embeddings), ("labels", labels)):
            if tuple(value.shape) != expected[name]:
                raise ValueError(
                    f"`{name}` must have shape {expected[name]}; received "
                    f"{tuple(value.shape)}."
                )
        check_label_values(ops.convert_to_numpy(labels), "labels")
        self.keys.assign(l2_normalize(embeddings))
        self.key_labels.assign(ops.cast(labels, "uint8"))

    def call(self, embeddings):
        queries = l2_normalize(ops.cast(embeddings, "float32"))
        similarity = ops.matmul(queries, ops.transpose(self.keys))
        _, nearest = ops.top_k(similarity, self.k)
        labels = ops.cast(ops.take(self.key_labels, nearest, axis=0), "float32")
        return ops.mean(labels, axis=1)

    def compute_output_shape(self, input_shape) -> tuple:
        return (input_shape[0], self.num_labels)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_keys": self.num_keys,
            "feature_dim": self.feature_dim,
            "num_labels": self.num_labels,
            "k": self.k,
        }
