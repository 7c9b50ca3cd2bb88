"""Pooling over a sequence that ignores padded positions."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="sdl_keras")
class MaskedPooling1D(keras.layers.Layer):
    """Max or mean over the time axis of `[B, T, F]`, padding left out.

    Args:
        mode: `"max"` or `"mean"`.
        **kwargs: `Layer` arguments.

    Call arguments:
        sequence: `[B, T, F]`.
        mask: bool `[B, T]`, `True` at real tokens. A row without any real
            token pools to zeros.

    Examples:

    >>> pool = MaskedPooling1D("max")
    >>> x = ops.convert_to_tensor([[[1.0], [5.0], [9.0]]])
    >>> ops.convert_to_numpy(pool(x, ops.convert_to_tensor([[True, True, False]])))
    array([[5.]], dtype=float32)
    """

    def __init__(self, mode: str = "max", **kwargs) -> None:
        super().__init__(**kwargs)
        if mode not in ("max", "mean"):
            raise ValueError(f"`mode` must be 'max' or 'mean'; received {mode!r}.")
        self.mode = mode

    def call(self, sequence, mask):
        keep = ops.cast(mask, sequence.dtype)[..., None]
        any_token = ops.cast(ops.any(mask, axis=1), sequence.dtype)[:, None]
        if self.mode == "mean":
            total = ops.sum(sequence * keep, axis=1)
            return total / ops.maximum(ops.sum(keep, axis=1), 1.0)
        lowest = ops.convert_to_tensor(-1e4, sequence.dtype)
        return ops.max(ops.where(keep > 0, sequence, lowest), axis=1) * any_token

    def compute_output_shape(self, sequence_shape, mask_shape=None):
        return (sequence_shape[0], sequence_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}
