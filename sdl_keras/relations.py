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
(non-negative). Everything here is computed from pair counts, never from a
`[B, B, L]` tensor; with many labels (L ≥ 1024) on TensorFlow the shared-label
counts come from the non-zero entries alone, so they cost O(nnz · B) instead of
O(B² · L).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

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


def _use_sparse_counts(num_labels: int | None) -> bool:
    # The non-zero path needs dynamic shapes, which TensorFlow graphs allow and
    # JAX tracing does not.
    return (
        keras.backend.backend() == "tensorflow"
        and num_labels is not None
        and num_labels >= SPARSE_MIN_LABELS
    )


class LabelSets:
    """The validated labels of one batch, with the counts every scheme needs.

    Args:
        y_true: multi-hot labels `[B, L]` with values 0/1, or integer class ids
            `[B]` (values ≥ 0, one label per sample).

    Per-label functions below receive each label's count in the batch (the
    number of samples carrying it) and return a value per label.
    """

    def __init__(self, y_true) -> None:
        labels = ops.convert_to_tensor(y_true)
        rank = static_rank(labels, "y_true", (1, 2))
        labels = ops.cast(labels, "float32")
        self.batch_size = ops.shape(labels)[0]
        self._class_ids = None
        self._multi_hot = None
        self._nonzero = None
        if rank == 1:
            require(
                ops.all(
                    ops.logical_and(labels >= 0, ops.equal(labels, ops.round(labels)))
                ),
                "`y_true` of rank 1 holds class ids and must be non-negative "
                "integers (for multi-hot labels pass shape [B, L]).",
            )
            self._class_ids = labels
            same = ops.cast(ops.equal(labels[:, None], labels[None, :]), "float32")
            self._same_class = same
            self._class_counts = ops.sum(same, axis=1)
        elif _use_sparse_counts(labels.shape[1]):
            import tensorflow as tf

            nonzero = tf.where(tf.not_equal(labels, 0.0))
            require(
                ops.all(ops.equal(tf.gather_nd(labels, nonzero), 1.0)),
                "`y_true` must be multi-hot: every value 0 or 1.",
            )
            self._multi_hot = labels
            self._nonzero = (nonzero[:, 0], nonzero[:, 1])
            self._label_counts = tf.math.unsorted_segment_sum(
                tf.ones_like(nonzero[:, 0], dtype="float32"),
                nonzero[:, 1],
                labels.shape[1],
            )
        else:
            require(
                ops.all(ops.logical_or(labels == 0.0, labels == 1.0)),
                "`y_true` must be multi-hot: every value 0 or 1 (for integer "
                "class ids pass shape [B]).",
            )
            self._multi_hot = labels
            self._label_counts = ops.sum(labels, axis=0)
        self.sizes = self.sum_over_labels(ops.ones_like)

    def sum_over_labels(self, per_label: Callable) -> keras.KerasTensor:
        """`[B]`: for each sample, the sum of `per_label(count)` over its labels."""
        if self._class_ids is not None:
            return per_label(self._class_counts)
        values = per_label(self._label_counts)
        if self._nonzero is not None:
            rows, cols = self._nonzero
            return ops.segment_sum(
                ops.take(values, cols), rows, num_segments=self.batch_size
            )
        return ops.matmul(self._multi_hot, values)

    def sum_over_shared_labels(
        self, per_label: Callable | None = None
    ) -> keras.KerasTensor:
        """`[B, B]`: for each pair, the sum of `per_label(count)` over the labels
        both samples carry; with no function, the size of the intersection."""
        if self._class_ids is not None:
            if per_label is None:
                return self._same_class
            return self._same_class * per_label(self._class_counts)[:, None]
        if self._nonzero is not None:
            return self._sparse_shared(per_label)
        left = self._multi_hot
        if per_label is not None:
            left = left * per_label(self._label_counts)[None, :]
        return ops.matmul(left, ops.transpose(self._multi_hot))

    def _sparse_shared(self, per_label: Callable | None) -> keras.KerasTensor:
        import tensorflow as tf

        rows, cols = self._nonzero
        # Membership of each label over the batch, [L, B], scattered from the
        # non-zero entries rather than transposed from the dense labels. (A
        # compaction to the labels present would give XLA a dynamic shape.)
        members = tf.scatter_nd(
            tf.stack([cols, rows], axis=1),
            tf.ones_like(rows, dtype="float32"),
            tf.stack(
                [
                    tf.cast(self._multi_hot.shape[1], rows.dtype),
                    tf.cast(self.batch_size, rows.dtype),
                ]
            ),
        )
        shared = tf.gather(members, cols)
        if per_label is not None:
            shared = shared * tf.gather(per_label(self._label_counts), cols)[:, None]
        return tf.math.unsorted_segment_sum(shared, rows, self.batch_size)


@dataclasses.dataclass(frozen=True)
class PairStatistics:
    """What a weight function sees: pair counts of one batch.

    Attributes:
        intersection: `[B, B]`, |S ∩ T| for anchor row and other column.
        anchor_size: `[B, 1]`, |S|.
        other_size: `[1, B]`, |T|.
        num_views: views per sample in the loss (each view is an anchor).
        labels: the `LabelSets`, for weights that need per-label counts.
    """

    intersection: keras.KerasTensor
    anchor_size: keras.KerasTensor
    other_size: keras.KerasTensor
    num_views: int
    labels: LabelSets

    @classmethod
    def from_labels(cls, y_true, num_views: int = 1) -> PairStatistics:
        labels = y_true if isinstance(y_true, LabelSets) else LabelSets(y_true)
        return cls(
            intersection=labels.sum_over_shared_labels(),
            anchor_size=labels.sizes[:, None],
            other_size=labels.sizes[None, :],
            num_views=num_views,
            labels=labels,
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
        ops.all(stats.labels.sizes <= 1.0),
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


def _mulsupcon_weights(stats: PairStatistics) -> keras.KerasTensor:
    # One label-anchor per (sample, label j): its positives are the other
    # anchors carrying j, V·N_j − 1 of them; a label-anchor without positives
    # is dropped. The label-anchors share one softmax, so they fold into one
    # weight per pair, averaged over the anchor's kept labels.
    views = float(stats.num_views)

    def inverse_positives(counts):
        positives = views * counts - 1.0
        return ops.where(positives > 0.5, 1.0 / ops.maximum(positives, 1.0), 0.0)

    def has_positive(counts):
        return ops.cast(views * counts - 1.0 > 0.5, "float32")

    per_pair = stats.labels.sum_over_shared_labels(inverse_positives)
    kept_labels = stats.labels.sum_over_labels(has_positive)[:, None]
    return ops.divide_no_nan(per_pair, kept_labels)


@dataclasses.dataclass(frozen=True)
class WeightScheme:
    """How a loss weighs its positive pairs.

    Attributes:
        weights: maps `PairStatistics` to the `[B, B]` pair weights; a pair is
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
