"""TF-IDF weighting of word counts inside a model."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="sdl_keras")
class TermWeighting(keras.layers.Layer):
    """Counts `[B, V]` → sublinear TF-IDF rows of unit length.

    Each count c of column j becomes `(1 + log c) · idf_j` (0 where c = 0),
    then every row is divided by its L2 norm: the weighting scikit-learn's
    `TfidfVectorizer(sublinear_tf=True)` applies, here a part of the model
    so that a served model takes the raw counts.

    Args:
        idf: inverse document frequency of each column, `[V]`
            (see `inverse_document_frequency`).
        **kwargs: `Layer` arguments.

    Examples:

    >>> layer = TermWeighting([1.0, 2.0])
    >>> weighted = layer(ops.convert_to_tensor([[1.0, 1.0]]))[0]
    >>> tuple(round(float(v), 4) for v in weighted)
    (0.4472, 0.8944)
    """

    def __init__(self, idf: Sequence[float] | np.ndarray, **kwargs) -> None:
        super().__init__(**kwargs)
        self.idf = [float(value) for value in idf]
        self.idf_weights = self.add_weight(
            shape=(len(self.idf),),
            initializer=keras.initializers.Constant(self.idf),
            trainable=False,
            name="idf",
        )

    def call(self, counts):
        counts = ops.cast(counts, "float32")
        logged = ops.where(counts > 0, 1.0 + ops.log(ops.maximum(counts, 1.0)), 0.0)
        weighted = logged * self.idf_weights
        norm = ops.sqrt(ops.sum(weighted * weighted, axis=-1, keepdims=True))
        return ops.divide_no_nan(weighted, norm)

    def get_config(self) -> dict:
        return {**super().get_config(), "idf": self.idf}


def inverse_document_frequency(
    document_frequency: Sequence[float] | np.ndarray, num_documents: int
) -> np.ndarray:
    """Smoothed idf, `log((1 + N) / (1 + df)) + 1` (scikit-learn's)."""
    frequency = np.asarray(document_frequency, "float64")
    return np.log((1.0 + num_documents) / (1.0 + frequency)) + 1.0
