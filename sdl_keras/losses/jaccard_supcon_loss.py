"""`JaccardSupConLoss`: the `jaccard` scheme of the weighted SupCon family."""

import keras

from sdl_keras.losses.weighted_supcon_loss import WeightedSupConLoss


@keras.saving.register_keras_serializable(package="sdl_keras")
class JaccardSupConLoss(WeightedSupConLoss):
    """Multi-label SupCon with positives weighted by Jaccard similarity.

    Positives share any label; each is weighted |S ∩ T| / |S ∪ T|, which is
    symmetric in anchor and positive.

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

    >>> loss = JaccardSupConLoss(temperature=0.1)
    >>> labels = [[1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]]
    >>> embeddings = [[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0]]
    >>> round(float(loss(labels, embeddings)), 4)
    0.4279

    Reference:
    - [Zhang & Wu, 2024](https://arxiv.org/abs/2401.01448) (baseline)
    """

    def __init__(
        self,
        temperature: float = 0.07,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            scheme="jaccard",
            temperature=temperature,
            reduction=reduction,
            name=name,
            dtype=dtype,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["scheme"]
        return config
