"""The weighted supervised-contrastive kernel every loss of the family uses."""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
from keras import ops

from sdl_keras._checks import require, static_rank
from sdl_keras.relations import (
    LabelPairs,
    LabelSets,
    PairStatistics,
    WeightScheme,
    get_scheme,
    is_sparse,
)

# Added to masked logits (each anchor's own, empty queue slots): far below any
# real logit (|z·z/τ| ≤ 1/τ), yet finite so that masked terms keep finite
# gradients.
_MASKED_LOGIT_OFFSET = 1e9


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
    contrast_labels=None,
    contrast_embeddings=None,
    contrast_mask=None,
    self_offset=None,
):
    """Per-sample weighted SupCon loss (L_out form) and which samples count.

    For anchor i with positives P(i) (pairs of weight w > 0, self excluded) and
    all others A(i):

        L_i = -(1/|P(i)|) Σ_{p∈P(i)} w(i,p) · log softmax_{a∈A(i)}(z_i·z_a/τ)_p

    (MulSupCon's scheme drops the 1/|P(i)|). With several views every view is
    an anchor and the other views of its sample are positives. The contrast
    set is the batch itself unless given: the global batch under a
    distribution strategy, or a batch plus a queue of keys. The math runs in
    float32.

    Args:
        y_true: multi-hot `[B, L]` (0/1), class ids `[B]`, or the large-label
            form (a `tf.SparseTensor` `[B, L]`, see
            `sdl_keras.relations.sparse_labels`).
        y_pred: embeddings `[B, D]` or `[B, V, D]`; L2-normalised here.
        scheme: a name from `sdl_keras.relations.SCHEMES`, a weight function
            of `PairStatistics`, or a `WeightScheme`.
        temperature: τ > 0.
        contrast_labels: labels of the contrast set in any form of `y_true`
            (or a `LabelSets`); with `contrast_embeddings`, `[M, D]` or
            `[M, W, D]`. Defaults to the anchors themselves.
        contrast_mask: optional bool `[M]`, `False` for contrast entries to
            ignore (empty queue slots).
        self_offset: index, among the flattened contrast embeddings, of the
            first anchor embedding; the anchors' embeddings follow in
            sample-major order there and are excluded as their own contrast.
            `None` when the anchors are not in the contrast set. Ignored
            without a contrast set.

    Returns:
        `(losses, has_positive)`: float32 `[B]`, the mean over each sample's
        view-anchors that have a positive (0 where none has), and bool `[B]`.
    """
    temperature = check_temperature(temperature)
    scheme = get_scheme(scheme)
    if (contrast_labels is None) != (contrast_embeddings is None):
        raise ValueError(
            "`contrast_labels` and `contrast_embeddings` go together: pass both "
            "or neither."
        )
    # The batch against itself (no contrast set, or one replica's gather of
    # the batch) reads its labels once.
    others = None
    if contrast_labels is not None and contrast_labels is not y_true:
        others = contrast_labels
        if not isinstance(others, LabelSets):
            others = LabelSets(others)
    # Anchors take the contrast set's form (a queue keeps entries).
    anchors = LabelSets(
        y_true, as_entries=others is not None and others.entries is not None
    )
    others = others or anchors
    anchor_embeddings = _embeddings(y_pred, "y_pred")
    anchor_embeddings = _check_batch_sizes(
        y_true, y_pred, anchors, anchor_embeddings, "y_true", "y_pred"
    )
    if contrast_embeddings is None:
        other_embeddings, self_offset = anchor_embeddings, 0
    else:
        other_embeddings = _embeddings(contrast_embeddings, "contrast_embeddings")
        other_embeddings = _check_batch_sizes(
            contrast_labels,
            contrast_embeddings,
            others,
            other_embeddings,
            "contrast_labels",
            "contrast_embeddings",
        )
    num_views, dim = anchor_embeddings.shape[1], anchor_embeddings.shape[2]
    other_views = other_embeddings.shape[1]
    if other_embeddings.shape[2] != dim:
        raise ValueError(
            "Anchor and contrast embeddings must have the same size; received "
            f"{dim} and {other_embeddings.shape[2]}."
        )

    valid = ops.ones_like(others.sizes)
    if contrast_mask is not None:
        valid = ops.cast(ops.convert_to_tensor(contrast_mask), "float32")
    pairs = LabelPairs(
        anchors, others, float(other_views) * valid, self_offset is not None
    )
    weights = ops.stop_gradient(scheme.weights(PairStatistics.between(pairs)))
    weights = weights * valid[None, :]
    weights = ops.repeat(ops.repeat(weights, num_views, 0), other_views, 1)

    # Embeddings are sample-major: row i·V + v is view v of sample i.
    z = _normalize(anchor_embeddings, dim)
    z_others = _normalize(other_embeddings, dim)
    num_anchors, num_others = ops.shape(z)[0], ops.shape(z_others)[0]
    # Boolean [N, M] (a quarter of a float mask's memory): own embeddings and
    # empty queue slots leave the softmax and the positives.
    excluded = None
    if contrast_mask is not None:
        excluded = ops.repeat(valid < 0.5, other_views)[None, :]
    if self_offset is not None:
        own_rows = ops.arange(num_anchors) + ops.cast(self_offset, "int32")
        own = ops.equal(ops.arange(num_others)[None, :], own_rows[:, None])
        excluded = own if excluded is None else ops.logical_or(excluded, own)
    logits = ops.matmul(z, ops.transpose(z_others)) / temperature
    if excluded is not None:
        logits = ops.where(excluded, logits - _MASKED_LOGIT_OFFSET, logits)
        weights = ops.where(excluded, 0.0, weights)
    log_prob = logits - ops.logsumexp(logits, axis=1, keepdims=True)

    num_positives = ops.sum(ops.cast(weights > 0.0, "float32"), axis=1)
    anchor_loss = -ops.sum(weights * log_prob, axis=1)
    if scheme.mean_over_positives:
        anchor_loss = ops.divide_no_nan(anchor_loss, num_positives)
    anchor_counts = ops.cast(num_positives > 0.0, "float32")

    anchor_loss = ops.reshape(anchor_loss * anchor_counts, (-1, num_views))
    anchor_counts = ops.reshape(anchor_counts, (-1, num_views))
    counted = ops.sum(anchor_counts, axis=1)
    losses = ops.divide_no_nan(ops.sum(anchor_loss, axis=1), counted)
    # Where assertions are compiled away (XLA), invalid labels still must not
    # give a finite loss.
    valid = ops.logical_and(anchors.valid, others.valid)
    losses = ops.where(valid, losses, float("nan"))
    return losses, counted > 0.0


def masked_anchor_losses(losses, has_positive, sample_weight=None):
    """Per-anchor losses weighted for reduction, and the count that means.

    Anchors without a positive get weight 0 and are not counted; a
    `sample_weight` (`[B]`, `[B, 1]` or a scalar) scales the others.

    Args:
        losses: `[N]` per-anchor losses from `weighted_supcon_loss`.
        has_positive: `[N]` booleans from `weighted_supcon_loss`.
        sample_weight: optional weights of the anchors.

    Returns:
        `(weighted, weights, count)`: `losses · weights` `[N]`, the weights
        `[N]`, and the number of anchors with a positive (a float scalar).
    """
    counted = ops.cast(has_positive, "float32")
    weights = counted
    if sample_weight is not None:
        weights = weights * ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
    return losses * weights, weights, ops.sum(counted)


def reduce_anchor_losses(
    losses,
    has_positive,
    sample_weight=None,
    reduction: str | None = "sum_over_batch_size",
):
    """Keras's loss reductions over the anchors that have a positive.

    `"sum_over_batch_size"` and `"mean"` divide by the number of counted
    anchors (and, under a TensorFlow distribution strategy, by the replicas,
    as every Keras loss does before gradients are summed);
    `"mean_with_sample_weight"` divides by the counted anchors' weights;
    `"sum"` adds; `None` / `"none"` returns the weighted `[N]` losses.
    """
    weighted, weights, count = masked_anchor_losses(losses, has_positive, sample_weight)
    if reduction in (None, "none"):
        return weighted
    total = ops.sum(weighted)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight":
        return ops.divide_no_nan(total, ops.sum(weights))
    return ops.divide_no_nan(total, count * _replicas_in_sync())


def _replicas_in_sync() -> float:
    if keras.backend.backend() != "tensorflow":
        return 1.0
    import tensorflow as tf

    return float(tf.distribute.get_strategy().num_replicas_in_sync)


def _embeddings(values, name: str):
    """`[N, V, D]` float32 with static views and features, checked finite."""
    embeddings = ops.cast(ops.convert_to_tensor(values), "float32")
    if static_rank(embeddings, name, (2, 3)) == 2:
        embeddings = embeddings[:, None, :]
    if embeddings.shape[1] is None or embeddings.shape[2] is None:
        raise ValueError(
            f"`{name}` needs static views and feature axes; received shape "
            f"{tuple(embeddings.shape)}."
        )
    require(
        ops.all(ops.isfinite(embeddings)),
        f"`{name}` holds NaN or Inf embeddings.",
    )
    return embeddings


def _normalize(embeddings, dim: int):
    return l2_normalize(ops.reshape(embeddings, (-1, dim)))


def l2_normalize(vectors):
    """Unit rows at any scale: each row is divided by its largest magnitude
    first, so its squared norm neither overflows (norms ≥ 1e19) nor underflows
    (≤ 1e-19) in float32. All-zero rows stay zero."""
    largest = ops.max(ops.abs(vectors), axis=-1, keepdims=True)
    # The result does not depend on the scale, so no gradient flows through it.
    scaled = ops.divide_no_nan(vectors, ops.stop_gradient(largest))
    return ops.normalize(scaled, axis=-1, epsilon=1e-12)


def _static_shape(values) -> tuple:
    if isinstance(values, LabelSets):
        return (None,)
    if is_sparse(values):
        return tuple(values.shape)
    return tuple(ops.convert_to_tensor(values).shape)


def _check_batch_sizes(
    labels_in, embeddings_in, labels: LabelSets, embeddings, label_name, name
):
    """`embeddings`, once their batch size is checked against the labels'."""
    label_batch = _static_shape(labels_in)[0]
    embedding_batch = embeddings.shape[0]
    message = (
        f"`{label_name}` and `{name}` must have the same batch size; received "
        f"shapes {_static_shape(labels_in)} and {_static_shape(embeddings_in)}."
    )
    if label_batch is not None and embedding_batch is not None:
        if label_batch != embedding_batch:
            raise ValueError(message)
        return embeddings
    return require(
        ops.equal(labels.batch_size, ops.shape(embeddings)[0]), message, embeddings
    )
