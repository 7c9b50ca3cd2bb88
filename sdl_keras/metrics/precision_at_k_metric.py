"""Precision@k as a streaming Keras metric."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="sdl_keras")
class PrecisionAtK(keras.metrics.Metric):
    """Mean over samples of |top-k scored labels ∩ true labels| / k.

    The standard ranking metric of ICD coding (P@5, P@8), for `fit` and
    `evaluate`; `sdl_keras.metrics.precision_at_k` is the NumPy twin.

    Args:
        k: number of top-scored labels, ≥ 1.
        name: metric name. Defaults to `"precision_at_{k}"`.
        dtype: dtype of the result.

    Examples:

    >>> metric = PrecisionAtK(k=2)
    >>> metric.update_state([[1, 0, 1], [0, 1, 0]], [[0.9, 0.8, 0.1], [0.2, 0.7, 0.1]])
    >>> float(metric.result())
    0.5
    """

    def __init__(self, k: int = 5, name: str | None = None, dtype=None) -> None:
        if int(k) != k or k < 1:
            raise ValueError(f"`k` must be an integer ≥ 1; received {k}.")
        super().__init__(name=name or f"precision_at_{int(k)}", dtype=dtype)
        self.k = int(k)
        self.hits = self.add_variable((), initializer="zeros", name="hits")
        self.samples = self.add_variable((), initializer="zeros", name="samples")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true = ops.cast(ops.convert_to_tensor(y_true), "float32")
        y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
        if y_pred.shape[-1] is not None and y_pred.shape[-1] < self.k:
            raise ValueError(
                f"precision@{self.k} needs at least {self.k} labels; "
                f"`y_pred` has {y_pred.shape[-1]}."
            )
        _, top = ops.top_k(y_pred, self.k)
        hits = ops.sum(ops.take_along_axis(y_true, top, axis=-1), axis=-1) / self.k
        weights = ops.ones_like(hits)
        if sample_weight is not None:
            weights = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        self.hits.assign_add(ops.sum(hits * weights))
        self.samples.assign_add(ops.sum(weights))

    def result(self):
        return ops.cast(ops.divide_no_nan(self.hits, self.samples), self.dtype)

    def reset_state(self) -> None:
        self.hits.assign(0.0)
        self.samples.assign(0.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "k": self.k}
