"""Relations between label sets and the pair weights of every contrastive loss.

Notation: an anchor has label set S, another sample (or view) has label set T.

| code | relation        | sets                                 |
| ---- | --------------- | ------------------------------------ |
| 1    | R1 disjoint     | S ∩ T = ∅ (negative)                 |
| 2    | R2 equal        | S = T                                |
| 3    | R3 overlap      | S ∩ T ≠ ∅, neither contains the other |
| 4    | R4 subset       | T ⊊ S                                |
| 5    | R5 superset     | S ⊊ T                                |

A sample without labels is disjoint from everything, itself included.

Labels are either multi-hot `[B, L]` (0/1) or integer class ids `[B]`
(non-negative). Anchors are compared with a contrast set: the batch itself, or
the batch gathered from every replica, or a queue of past keys. Everything here
is computed from pair counts, never from a `[B, B, L]` tensor; with many labels
(L ≥ 1024) on TensorFlow the shared-label counts come from the non-zero entries
alone, so they cost O(nnz · B) instead of O(B² · L).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from sdl_keras._checks import require, static_rank

R1_DISJOINT = 1
R2_EQUAL = 2
R3_OVERLAP = 3
R4_SUBSET = 4
R5_SUPERSET = 5

# From this many labels on, shared-label counts use the non-zero entries only.
SPARSE_MIN_LABELS = 1024


def _is_integer(tensor) -> bool:
    return "int" in str(keras.backend.standardize_dtype(tensor.dtype))


def _use_sparse_counts(num_labels: int | None) -> bool:
    # The non-zero path needs dynamic shapes, which TensorFlow graphs allow and
    # JAX tracing does not.
    return (
        keras.backend.backend() == "tensorflow"
        and num_labels is not None
        and num_labels >= SPARSE_MIN_LABELS
    )


class LabelSets:
    """The validated labels of one set of samples.

    Args:
        y_true: multi-hot labels `[N, L]` with values 0/1, or integer class ids
            `[N]` (values ≥ 0, one label per sample).
    """

    def __init__(self, y_true) -> None:
        labels = ops.convert_to_tensor(y_true)
        rank = static_rank(labels, "y_true", (1, 2))
        self.batch_size = ops.shape(labels)[0]
        # Exactly one form is set: ids `[N]`, or multi-hot `[N, L]` (with the
        # (row, column) pairs of its ones where those are counted sparsely).
        self.class_ids: Any = None
        self.multi_hot: Any = None
        self.nonzero: tuple[Any, Any] | None = None
        if rank == 1:
            # Ids stay in their own dtype: float32 would merge ids ≥ 2^24.
            self.valid = ops.all(labels >= 0)
            if not _is_integer(labels):
                self.valid = ops.logical_and(
                    self.valid, ops.all(ops.equal(labels, ops.round(labels)))
                )
            require(
                self.valid,
                "`y_true` of rank 1 holds class ids and must be non-negative "
                "integers (for multi-hot labels pass shape [B, L]).",
            )
            self.class_ids = labels
            self.sizes = ops.ones((self.batch_size,), "float32")
            return
        labels = ops.cast(labels, "float32")
        self.multi_hot = labels
        if _use_sparse_counts(labels.shape[1]):
            import tensorflow as tf

            nonzero = tf.where(tf.not_equal(labels, 0.0))
            self.valid = ops.all(ops.equal(tf.gather_nd(labels, nonzero), 1.0))
            require(self.valid, "`y_true` must be multi-hot: every value 0 or 1.")
            self.nonzero = (nonzero[:, 0], nonzero[:, 1])
            self.sizes = tf.math.unsorted_segment_sum(
                tf.ones_like(nonzero[:, 0], dtype="float32"),
                nonzero[:, 0],
                self.batch_size,
            )
        else:
            self.valid = ops.all(ops.logical_or(labels == 0.0, labels == 1.0))
            require(
                self.valid,
                "`y_true` must be multi-hot: every value 0 or 1 (for integer "
                "class ids pass shape [B]).",
            )
            self.sizes = ops.sum(labels, axis=1)

    # `valid` (scalar bool): every label value is allowed. XLA drops the
    # assertions of `require`, so the losses also turn invalid labels into NaN.

    @property
    def num_labels(self) -> int | None:
        return None if self.multi_hot is None else self.multi_hot.shape[1]


class LabelPairs:
    """Label counts between anchors and the samples they are contrasted with.

    Args:
        anchors: `LabelSets` of the anchor samples.
        others: `LabelSets` of the contrast samples (`anchors` itself for an
            in-batch loss; the gathered global batch or a queue otherwise).
        multiplicity: `[M]` number of embeddings each contrast sample brings
            (its views; 0 for an empty queue slot).
        includes_self: whether each anchor's own embedding is among the
            contrast embeddings (then it is not its own positive).

    Per-label functions receive each label's count over the contrast
    embeddings (self included) and return a value per label.
    """

    def __init__(
        self,
        anchors: LabelSets,
        others: LabelSets,
        multiplicity,
        includes_self: bool,
    ) -> None:
        if (anchors.class_ids is None) != (others.class_ids is None):
            raise ValueError(
                "Anchor and contrast labels must both be multi-hot or both be "
                "class ids."
            )
        if anchors.num_labels != others.num_labels:
            raise ValueError(
                "Anchor and contrast labels must have the same number of labels; "
                f"received {anchors.num_labels} and {others.num_labels}."
            )
        self.anchors = anchors
        self.others = others
        self.includes_self = includes_self
        multiplicity = ops.cast(multiplicity, "float32")
        if anchors.class_ids is not None:
            self._same_class = ops.cast(
                ops.equal(anchors.class_ids[:, None], others.class_ids[None, :]),
                "float32",
            )
            # Each anchor carries one label; its count is all the model needs.
            self._anchor_label_counts = ops.matmul(self._same_class, multiplicity)
        elif others.nonzero is not None:
            rows, cols = others.nonzero
            self._label_counts = ops.segment_sum(
                ops.take(multiplicity, rows), cols, num_segments=others.num_labels
            )
        else:
            self._label_counts = ops.matmul(multiplicity, others.multi_hot)

    def sum_over_labels(self, per_label: Callable) -> keras.KerasTensor:
        """`[N]`: for each anchor, the sum of `per_label(count)` over its labels."""
        if self.anchors.class_ids is not None:
            return per_label(self._anchor_label_counts)
        values = per_label(self._label_counts)
        if self.anchors.nonzero is not None:
            rows, cols = self.anchors.nonzero
            return ops.segment_sum(
                ops.take(values, cols), rows, num_segments=self.anchors.batch_size
            )
        return ops.matmul(self.anchors.multi_hot, values)

    def sum_over_shared_labels(
        self, per_label: Callable | None = None
    ) -> keras.KerasTensor:
        """`[N, M]`: for each pair, the sum of `per_label(count)` over the labels
        both samples carry; with no function, the size of the intersection."""
        if self.anchors.class_ids is not None:
            if per_label is None:
                return self._same_class
            return self._same_class * per_label(self._anchor_label_counts)[:, None]
        if self.anchors.nonzero is not None and self.others.nonzero is not None:
            return self._sparse_shared(per_label)
        left = self.anchors.multi_hot
        if per_label is not None:
            left = left * per_label(self._label_counts)[None, :]
        return ops.matmul(left, ops.transpose(self.others.multi_hot))

    def _sparse_shared(self, per_label: Callable | None) -> keras.KerasTensor:
        import tensorflow as tf

        assert self.anchors.nonzero is not None and self.others.nonzero is not None
        rows, cols = self.anchors.nonzero
        other_rows, other_cols = self.others.nonzero
        # Membership of each label over the contrast samples, [L, M], scattered
        # from the non-zero entries rather than transposed from the dense
        # labels. (A compaction to the labels present would give XLA a dynamic
        # shape.)
        members = tf.scatter_nd(
            tf.stack([other_cols, other_rows], axis=1),
            tf.ones_like(other_rows, dtype="float32"),
            tf.stack(
                [
                    tf.cast(self.others.num_labels, other_rows.dtype),
                    tf.cast(self.others.batch_size, other_rows.dtype),
                ]
            ),
        )
        shared = tf.gather(members, cols)
        if per_label is not None:
            shared = shared * tf.gather(per_label(self._label_counts), cols)[:, None]
        return tf.math.unsorted_segment_sum(shared, rows, self.anchors.batch_size)


@dataclasses.dataclass(frozen=True)
class PairStatistics:
    """What a weight function sees: pair counts between anchors and others.

    Attributes:
        intersection: `[N, M]`, |S ∩ T| for anchor row and other column.
        anchor_size: `[N, 1]`, |S|.
        other_size: `[1, M]`, |T|.
        pairs: the `LabelPairs`, for weights that need per-label counts.
    """

    intersection: keras.KerasTensor
    anchor_size: keras.KerasTensor
    other_size: keras.KerasTensor
    pairs: LabelPairs

    @classmethod
    def from_labels(cls, y_true, num_views: int = 1) -> PairStatistics:
        """Statistics of a batch against itself, each sample with `num_views`
        embeddings."""
        labels = y_true if isinstance(y_true, LabelSets) else LabelSets(y_true)
        multiplicity = float(num_views) * ops.ones_like(labels.sizes)
        return cls.between(LabelPairs(labels, labels, multiplicity, True))

    @classmethod
    def between(cls, pairs: LabelPairs) -> PairStatistics:
        return cls(
            intersection=pairs.sum_over_shared_labels(),
            anchor_size=pairs.anchors.sizes[:, None],
            other_size=pairs.others.sizes[None, :],
            pairs=pairs,
        )

    @property
    def shares_a_label(self) -> keras.KerasTensor:
        return self.intersection > 0.5


def relation_matrix(y_true) -> keras.KerasTensor:
    """Relation code 1..5 (R1..R5) of every pair, int32 `[B, B]`.

    Args:
        y_true: multi-hot `[B, L]` or class ids `[B]`.

    Examples:

    >>> ops.convert_to_numpy(relation_matrix([[1, 1, 0], [1, 0, 0], [0, 0, 1]]))[0]
    array([2, 4, 1], dtype=int32)
    """
    stats = PairStatistics.from_labels(y_true)
    meet = stats.intersection
    anchor_in_other = ops.equal(meet, stats.anchor_size)
    other_in_anchor = ops.equal(meet, stats.other_size)
    codes = ops.where(
        anchor_in_other,
        ops.where(other_in_anchor, R2_EQUAL, R5_SUPERSET),
        ops.where(other_in_anchor, R4_SUBSET, R3_OVERLAP),
    )
    return ops.cast(ops.where(stats.shares_a_label, codes, R1_DISJOINT), "int32")


def similarity_factor(y_true) -> keras.KerasTensor:
    """K^s = |S ∩ T| / |S|, `[B, B]` (0 where the anchor has no label)."""
    stats = PairStatistics.from_labels(y_true)
    return _similarity(stats)


def dissimilarity_factor(y_true) -> keras.KerasTensor:
    """K^d = 1 / (1 + |T \\ S|), `[B, B]`: falls with labels the anchor lacks."""
    stats = PairStatistics.from_labels(y_true)
    return _dissimilarity(stats)


def _similarity(stats: PairStatistics) -> keras.KerasTensor:
    return ops.divide_no_nan(stats.intersection, stats.anchor_size)


def _dissimilarity(stats: PairStatistics) -> keras.KerasTensor:
    return 1.0 / (1.0 + stats.other_size - stats.intersection)


def _on_positives(stats: PairStatistics, weights) -> keras.KerasTensor:
    return ops.where(stats.shares_a_label, weights, 0.0)


def _supcon_weights(stats: PairStatistics) -> keras.KerasTensor:
    require(
        ops.all(stats.pairs.anchors.sizes <= 1.0),
        "SupConLoss is single-label: a sample carries more than one label; "
        "use a multi-label loss such as SimilarityDissimilarityLoss.",
    )
    return ops.cast(stats.shares_a_label, "float32")


def _all_weights(stats: PairStatistics) -> keras.KerasTensor:
    equal = ops.logical_and(
        ops.equal(stats.intersection, stats.anchor_size),
        ops.equal(stats.intersection, stats.other_size),
    )
    return ops.cast(ops.logical_and(equal, stats.shares_a_label), "float32")


def _any_weights(stats: PairStatistics) -> keras.KerasTensor:
    return ops.cast(stats.shares_a_label, "float32")


def _jaccard_weights(stats: PairStatistics) -> keras.KerasTensor:
    union = stats.anchor_size + stats.other_size - stats.intersection
    return ops.divide_no_nan(stats.intersection, union)


def _sdl_weights(stats: PairStatistics) -> keras.KerasTensor:
    return _on_positives(stats, _similarity(stats) * _dissimilarity(stats))


def _similarity_only_weights(stats: PairStatistics) -> keras.KerasTensor:
    return _on_positives(stats, _similarity(stats))


def _dissimilarity_only_weights(stats: PairStatistics) -> keras.KerasTensor:
    return _on_positives(stats, _dissimilarity(stats))


def _symmetric_weights(stats: PairStatistics) -> keras.KerasTensor:
    # Jaccard similarity times 1 / (1 + |S Δ T|): SDL's two factors made
    # symmetric in anchor and positive (R4 and R5 weigh alike).
    union = stats.anchor_size + stats.other_size - stats.intersection
    difference = union - stats.intersection
    return _on_positives(
        stats, ops.divide_no_nan(stats.intersection, union) / (1.0 + difference)
    )


def _mulsupcon_weights(stats: PairStatistics) -> keras.KerasTensor:
    # One label-anchor per (sample, label j): its positives are the other
    # contrast embeddings carrying j; a label-anchor without positives is
    # dropped. The label-anchors share one softmax, so they fold into one
    # weight per pair, averaged over the anchor's kept labels.
    own_embedding = 1.0 if stats.pairs.includes_self else 0.0

    def inverse_positives(counts):
        positives = counts - own_embedding
        return ops.where(positives > 0.5, 1.0 / ops.maximum(positives, 1.0), 0.0)

    def has_positive(counts):
        return ops.cast(counts - own_embedding > 0.5, "float32")

    per_pair = stats.pairs.sum_over_shared_labels(inverse_positives)
    kept_labels = stats.pairs.sum_over_labels(has_positive)[:, None]
    return ops.divide_no_nan(per_pair, kept_labels)


@dataclasses.dataclass(frozen=True)
class WeightScheme:
    """How a loss weighs its positive pairs.

    Attributes:
        weights: maps `PairStatistics` to the `[N, M]` pair weights; a pair is
            a positive exactly where its weight is > 0.
        mean_over_positives: divide each anchor's weighted sum by its number
            of positives (SupCon's L_out); `False` when the weights already
            sum to the anchor's share, as in MulSupCon.
    """

    weights: Callable[[PairStatistics], keras.KerasTensor]
    mean_over_positives: bool = True


SCHEMES: dict[str, WeightScheme] = {
    "supcon": WeightScheme(_supcon_weights),
    "all": WeightScheme(_all_weights),
    "any": WeightScheme(_any_weights),
    "jaccard": WeightScheme(_jaccard_weights),
    "mulsupcon": WeightScheme(_mulsupcon_weights, mean_over_positives=False),
    "sdl": WeightScheme(_sdl_weights),
    # Ablations of SDL, which the paper does not report.
    "similarity_only": WeightScheme(_similarity_only_weights),
    "dissimilarity_only": WeightScheme(_dissimilarity_only_weights),
    "symmetric": WeightScheme(_symmetric_weights),
}


def get_scheme(scheme: str | Callable | WeightScheme) -> WeightScheme:
    """Resolves a scheme name, a weight function or a `WeightScheme`."""
    if isinstance(scheme, WeightScheme):
        return scheme
    if isinstance(scheme, str):
        if scheme not in SCHEMES:
            raise ValueError(
                f"Unknown weight scheme {scheme!r}; expected one of "
                f"{sorted(SCHEMES)} or a callable."
            )
        return SCHEMES[scheme]
    if callable(scheme):
        return WeightScheme(scheme)
    raise ValueError(
        f"`scheme` must be a name, a callable or a WeightScheme; received {scheme!r}."
    )


def pair_weights(
    y_true, scheme: str | Callable | WeightScheme = "sdl", num_views: int = 1
) -> keras.KerasTensor:
    """The `[B, B]` weight matrix of a loss: row anchor, column other sample.

    The diagonal holds the weight between two views of the same sample (used
    when `num_views > 1`; a sample is never its own positive).

    Args:
        y_true: multi-hot `[B, L]` or class ids `[B]`.
        scheme: one of `"supcon"`, `"all"`, `"any"`, `"jaccard"`,
            `"mulsupcon"`, `"sdl"`, or a function of `PairStatistics`.
        num_views: views per sample (MulSupCon's weights depend on it).

    Examples:

    >>> w = pair_weights([[1, 1, 0], [1, 0, 0], [1, 0, 1]], "sdl")
    >>> ops.convert_to_numpy(w)[0]
    array([1.  , 0.5 , 0.25], dtype=float32)
    """
    if int(num_views) < 1:
        raise ValueError(f"`num_views` must be ≥ 1; received {num_views}.")
    stats = PairStatistics.from_labels(y_true, int(num_views))
    return ops.cast(get_scheme(scheme).weights(stats), "float32")
