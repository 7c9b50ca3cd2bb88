"""Base class of the loss family: a Keras `Loss` over one weight scheme."""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import ops

from sdl_keras.losses.weighted_supcon import (
    check_temperature,
    reduce_anchor_losses,
    weighted_supcon_loss,
)


@keras.saving.register_keras_serializable(package="sdl_keras")
class WeightedSupConLoss(keras.losses.Loss):
    """Supervised contrastive loss with positives weighted by a scheme.

    The base of every loss in `sdl_keras.losses`; use it directly for a custom
    weight function. Samples (or views) whose labels share nothing are
    negatives; a pair is a positive where the scheme gives it weight > 0.
    Anchors without positives add no loss and are left out of the mean; with
    `reduction="none"` the result is one loss per sample, `[B]`.

    Args:
        scheme: a name (`"supcon"`, `"all"`, `"any"`, `"jaccard"`,
            `"mulsupcon"`, `"sdl"`) or a function mapping
            `sdl_keras.relations.PairStatistics` to `[B, B]` weights. A custom
            function must be registered with
            `keras.saving.register_keras_serializable` to be saved.
        temperature: softmax temperature τ > 0. Defaults to 0.07.
        reduction: as for every Keras loss. Defaults to
            `"sum_over_batch_size"` (here: the mean over samples that have a
            positive).
        name: optional name of the loss instance.
        dtype: dtype of the returned loss. The math itself always runs in
            float32, whatever the dtype or the global policy.

    Examples:

    >>> loss = WeightedSupConLoss("jaccard", temperature=0.1)
    >>> labels = [[1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]]
    >>> embeddings = [[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0]]
    >>> round(float(loss(labels, embeddings)), 4)
    0.4279
    """

    def __init__(
        self,
        scheme: str | Callable = "sdl",
        temperature: float = 0.07,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.scheme = scheme
        self.temperature = check_temperature(temperature)

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Keras would cast the inputs to the loss dtype first; that would round
        # class ids and embeddings under bfloat16, so the cast is left to the
        # float32 kernel and only the result takes the loss dtype.
        with keras.name_scope(self.name):
            losses, has_positive = weighted_supcon_loss(
                y_true, y_pred, scheme=self.scheme, temperature=self.temperature
            )
            loss = reduce_anchor_losses(
                losses, has_positive, sample_weight, self.reduction
            )
            return ops.cast(loss, self.dtype)

    def call(self, y_true, y_pred):
        return weighted_supcon_loss(
            y_true, y_pred, scheme=self.scheme, temperature=self.temperature
        )[0]

    def get_config(self) -> dict:
        scheme = self.scheme
        if not isinstance(scheme, str):
            scheme = keras.saving.serialize_keras_object(scheme)
        return {
            **super().get_config(),
            "scheme": scheme,
            "temperature": self.temperature,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config: dict):
        if isinstance(config.get("scheme"), dict):
            config = {
                **config,
                "scheme": keras.saving.deserialize_keras_object(config["scheme"]),
            }
        return cls(**config)
