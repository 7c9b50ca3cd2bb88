"""`MulSupConLoss`: the `mulsupcon` scheme of the weighted SupCon family."""

import keras

from sdl_keras.losses.weighted_supcon_loss import WeightedSupConLoss


@keras.saving.register_keras_serializable(package="sdl_keras")
class MulSupConLoss(WeightedSupConLoss):
    """MulSupCon: one anchor per (sample, label), sharing one softmax.

    For each label j of the anchor, the positives are the other samples (and
    views) carrying j; each label-anchor averages over its positives, and the
    sample averages over its labels that have a positive. This folds into pair
    weights w(i, p) = (1/|S'|) Σ_{j ∈ S ∩ T} 1/|P_j(i)| summed without a further
    division by the number of positives. The published method also trains
    with a momentum encoder and a key queue; this is its loss term.

    Args:
        temperature: softmax temperature τ > 0. Defaults to 0.07.
        reduction: as for every Keras loss; `"none"` gives one loss per
            sample, `[B]`. Defaults to `"sum_over_batch_size"` (the mean over
            samples that have a positive).
        name: optional name of the loss instance.
        dtype: dtype of the returned loss; the math runs in float32.

    Inputs: `y_true` multi-hot `[B, L]` or class ids `[B]`; `y_pred`
    embeddings `[B, D]` or `[B, V, D]` (V views of each sample).

    Examples:

    >>> loss = MulSupConLoss(temperature=0.1)
    >>> labels = [[1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]]
    >>> embeddings = [[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0]]
    >>> round(float(loss(labels, embeddings)), 4)
    1.0418

    Reference:
    - [Zhang & Wu, 2024](https://arxiv.org/abs/2401.01448)
    """

    def __init__(
        self,
        temperature: float = 0.07,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            scheme="mulsupcon",
            temperature=temperature,
            reduction=reduction,
            name=name,
            dtype=dtype,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["scheme"]
        return config
