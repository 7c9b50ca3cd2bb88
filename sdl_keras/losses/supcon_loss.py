"""`SupConLoss`: the `supcon` scheme of the weighted SupCon family."""

import keras

from sdl_keras.losses.weighted_supcon_loss import WeightedSupConLoss


@keras.saving.register_keras_serializable(package="sdl_keras")
class SupConLoss(WeightedSupConLoss):
    """Supervised contrastive loss (SupCon, L_out) for single-label data.

    Positives are the other samples of the anchor's class, all weighted 1.
    Labels are class ids `[B]` or one-hot rows; a row with more than one label
    is an error (use a multi-label loss).

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

    >>> loss = SupConLoss(temperature=1.0)
    >>> embeddings = [[[0.0, 0.0, 1.0]] * 2, [[0.0, 1.0, 0.0]] * 2,
    ...               [[1.0, 0.0, 0.0]] * 2]
    >>> [round(float(v), 6) for v in
    ...  SupConLoss(temperature=1.0, reduction="none")([0, 0, 1], embeddings)]
    [1.571499, 1.571499, 0.904832]

    Reference:
    - [Khosla et al., 2020](https://arxiv.org/abs/2004.11362)
    """

    def __init__(
        self,
        temperature: float = 0.07,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            scheme="supcon",
            temperature=temperature,
            reduction=reduction,
            name=name,
            dtype=dtype,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["scheme"]
        return config
