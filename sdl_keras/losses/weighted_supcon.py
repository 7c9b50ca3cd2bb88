"""The weighted supervised-contrastive kernel every loss of the family uses."""

from __future__ import annotations

import math
from collections.abc import Callable

from keras import ops

from sdl_keras._checks import require, static_rank
from sdl_keras.relations import LabelSets, PairStatistics, WeightScheme, get_scheme

# Added to each anchor's own logit: far below any real logit (|z·z/τ| ≤ 1/τ),
# yet finite so that masked terms keep finite gradients.
_SELF_LOGIT_OFFSET = 1e9


def check_temperature(temperature) -> float:
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise ValueError(
            f"`temperature` must be a number; received {temperature!r}."
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"`temperature` must be finite and > 0; received {temperature}."
        )
    return value


def weighted_supcon_loss(
    y_true,
    y_pred,
    scheme: str | Callable | WeightScheme = "sdl",
    temperature: float = 0.07,
):
    """Per-sample weighted SupCon loss (L_out form) and which samples count.

    For anchor i with positives P(i) (pairs of weight w > 0, self excluded) and
    all others A(i):

        L_i = -(1/|P(i)|) Σ_{p∈P(i)} w(i,p) · log softmax_{a∈A(i)}(z_i·z_a/τ)_p

    (MulSupCon's scheme drops the 1/|P(i)|). With several views every view is
    an anchor and the other views of its sample are positives (weight of the
    diagonal of `pair_weights`). The math runs in float32.

    Args:
        y_true: multi-hot `[B, L]` (0/1) or class ids `[B]`.
        y_pred: embeddings `[B, D]` or `[B, V, D]`; L2-normalised here.
        scheme: a name from `sdl_keras.relations.SCHEMES`, a weight function
            of `PairStatistics`, or a `WeightScheme`.
        temperature: τ > 0.

    Returns:
        `(losses, has_positive)`: float32 `[B]`, the mean over each sample's
        view-anchors that have a positive (0 where none has), and bool `[B]`.
    """
    temperature = check_temperature(temperature)
    scheme = get_scheme(scheme)
    embeddings = ops.cast(ops.convert_to_tensor(y_pred), "float32")
    if static_rank(embeddings, "y_pred", (2, 3)) == 2:
        embeddings = embeddings[:, None, :]
    labels = LabelSets(y_true)
    _check_batch_sizes(y_true, y_pred, labels, embeddings)
    require(
        ops.all(ops.isfinite(embeddings)),
        "`y_pred` holds NaN or Inf embeddings.",
    )
    num_views, dim = embeddings.shape[1], embeddings.shape[2]
    if num_views is None or dim is None:
        raise ValueError(
            "`y_pred` needs static views and feature axes; received shape "
            f"{tuple(embeddings.shape)}."
        )

    stats = PairStatistics.from_labels(labels, num_views)
    weights = ops.stop_gradient(scheme.weights(stats))
    weights = ops.repeat(ops.repeat(weights, num_views, axis=0), num_views, axis=1)

    # Anchors are sample-major: row i·V + v is view v of sample i.
    z = ops.normalize(ops.reshape(embeddings, (-1, dim)), axis=-1, epsilon=1e-12)
    not_self = 1.0 - ops.eye(ops.shape(z)[0], dtype="float32")
    logits = ops.matmul(z, ops.transpose(z)) / temperature
    logits = logits - (1.0 - not_self) * _SELF_LOGIT_OFFSET
    log_prob = logits - ops.logsumexp(logits, axis=1, keepdims=True)

    weights = weights * not_self
    num_positives = ops.sum(ops.cast(weights > 0.0, "float32"), axis=1)
    anchor_loss = -ops.sum(weights * log_prob, axis=1)
    if scheme.mean_over_positives:
        anchor_loss = ops.divide_no_nan(anchor_loss, num_positives)
    anchor_counts = ops.cast(num_positives > 0.0, "float32")

    anchor_loss = ops.reshape(anchor_loss * anchor_counts, (-1, num_views))
    anchor_counts = ops.reshape(anchor_counts, (-1, num_views))
    counted = ops.sum(anchor_counts, axis=1)
    losses = ops.divide_no_nan(ops.sum(anchor_loss, axis=1), counted)
    return losses, counted > 0.0


def _check_batch_sizes(y_true, y_pred, labels: LabelSets, embeddings) -> None:
    label_batch = ops.convert_to_tensor(y_true).shape[0]
    embedding_batch = embeddings.shape[0]
    message = (
        "`y_true` and `y_pred` must have the same batch size; received "
        f"shapes {tuple(ops.convert_to_tensor(y_true).shape)} and "
        f"{tuple(ops.convert_to_tensor(y_pred).shape)}."
    )
    if label_batch is not None and embedding_batch is not None:
        if label_batch != embedding_batch:
            raise ValueError(message)
        return
    require(ops.equal(labels.batch_size, ops.shape(embeddings)[0]), message)
