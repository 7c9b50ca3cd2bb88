"""`SimilarityDissimilarityLoss`: the `sdl` scheme of the weighted SupCon family."""

import keras

from sdl_keras.losses.weighted_supcon_loss import WeightedSupConLoss


@keras.saving.register_keras_serializable(package="sdl_keras")
class SimilarityDissimilarityLoss(WeightedSupConLoss):
    """Similarity-Dissimilarity Loss (SDL) for multi-label contrastive learning.

    Positives are the samples sharing at least one label with the anchor, each
    weighted by w = K^s · K^d: the similarity factor K^s = |S ∩ T| / |S| (the
    share of the anchor's labels the positive has) times the dissimilarity
    factor K^d = 1 / (1 + |T \\ S|) (falling with each label the positive has
    and the anchor lacks). w is in (0, 1] and equals 1 exactly for identical
    label sets, so on single-label data the loss is SupCon. The weight is
    asymmetric: a positive whose labels are a subset of the anchor's (R4) is
    weighted differently from one with extra labels (R5).

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

    >>> loss = SimilarityDissimilarityLoss(temperature=0.1)
    >>> labels = [[1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]]
    >>> embeddings = [[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0]]
    >>> round(float(loss(labels, embeddings)), 4)
    0.3793

    Reference:
    - [Huang et al., 2024](https://arxiv.org/abs/2410.13439)
    """

    def __init__(
        self,
        temperature: float = 0.07,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            scheme="sdl",
            temperature=temperature,
            reduction=reduction,
            name=name,
            dtype=dtype,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["scheme"]
        return config
