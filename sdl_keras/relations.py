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

Labels come in three forms:
- multi-hot `[B, L]` (0/1), dense;
- integer class ids `[B]` (non-negative), one label a sample;
- the large-label form, a `tf.SparseTensor` `[B, L]` holding a 1 at each
  (sample, label) pair (TensorFlow backend): `[B, L]` is never materialised.
  `sparse_labels` builds one from label indices padded with -1.

Anchors are compared with a contrast set: the batch itself, or the batch
gathered from every replica, or a queue of past keys. Everything here is
computed from pair counts, never from a `[B, B, L]` tensor. On TensorFlow, with
many labels (L ≥ 1024, or sparse labels) the counts come from the (sample,
label) entries alone: the labels most shared in the batch go through one
`[B, H] · [H, M]` product, the rest are joined entry by entry, so the cost
does not grow with L.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from sdl_keras._checks import in_xla_graph, require, static_rank

R1_DISJOINT = 1
R2_EQUAL = 2
R3_OVERLAP = 3
R4_SUBSET = 4
R5_SUPERSET = 5

# From this many labels on, labels are handled as (sample, label) entries.
SPARSE_MIN_LABELS = 1024
# Labels of a batch whose shared counts go through one dense product: those
# with the most (anchor, contrast) pairs. The others make few pairs each
# (at most nnz / DENSE_LABEL_COLUMNS per label), joined one by one.
DENSE_LABEL_COLUMNS = 128


def _is_integer(tensor) -> bool:
    return "int" in str(keras.backend.standardize_dtype(tensor.dtype))


def is_sparse(labels) -> bool:
    """Whether `labels` are in the large-label form (a `tf.SparseTensor`)."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return isinstance(labels, tf.SparseTensor)


def _use_entries(num_labels: int | None) -> bool:
    # Entries need dynamic shapes, which TensorFlow graphs allow and JAX
    # tracing does not.
    return keras.backend.backend() == "tensorflow" and (
        num_labels is None or num_labels >= SPARSE_MIN_LABELS
    )


def sparse_labels(label_indices, num_labels: int):
    """The large-label form from label indices padded with -1.

    Args:
        label_indices: integer `[B, K]`: the labels of each sample, in any
            order, padded with -1 (no label repeated within a row).
        num_labels: L, the size of the label vocabulary.

    Returns:
        A `tf.SparseTensor` `[B, L]` of float32 ones.

    Examples:

    >>> import tensorflow as tf
    >>> labels = sparse_labels([[4, 0], [2, -1]], num_labels=5)
    >>> tf.sparse.to_dense(labels).numpy()
    array([[1., 0., 0., 0., 1.],
           [0., 0., 1., 0., 0.]], dtype=float32)
    """
    import tensorflow as tf

    indices = tf.cast(tf.convert_to_tensor(label_indices), tf.int64)
    static_rank(indices, "label_indices", (2,))
    require(
        tf.reduce_all((indices >= -1) & (indices < num_labels)),
        f"`label_indices` must lie in [0, {num_labels}) or be the pad -1.",
    )
    entries = tf.where(indices >= 0)
    labels = tf.SparseTensor(
        tf.stack([entries[:, 0], tf.gather_nd(indices, entries)], axis=1),
        tf.ones(tf.shape(entries)[:1], "float32"),
        tf.stack([tf.shape(indices, out_type=tf.int64)[0], num_labels]),
    )
    return tf.sparse.reorder(labels)


def padded_label_indices(labels, max_labels: int):
    """Label indices `[B, max_labels]` padded with -1, from multi-hot or
    sparse labels: the inverse of `sparse_labels` (TensorFlow)."""
    sets = labels if isinstance(labels, LabelSets) else LabelSets(labels, True)
    if sets.entries is None:
        raise ValueError(
            "Label indices come from multi-hot or sparse labels [B, L]; "
            "received class ids."
        )
    return sets.padded_indices(max_labels)


class LabelSets:
    """The validated labels of one set of samples.

    Args:
        y_true: multi-hot `[N, L]` with values 0/1, integer class ids `[N]`
            (values ≥ 0, one label per sample), or a `tf.SparseTensor`
            `[N, L]` of ones.
        as_entries: keep multi-label sets as (sample, label) entries whatever
            L (TensorFlow only).
    """

    def __init__(self, y_true, as_entries: bool = False) -> None:
        # Exactly one form is set: ids `[N]`, dense multi-hot `[N, L]`, or
        # the (sample, label) entries with `num_labels` (static or None).
        self.class_ids: Any = None
        self.multi_hot: Any = None
        self.entries: tuple[Any, Any] | None = None
        self.num_labels: int | None = None
        # L as a (possibly dynamic) scalar, for the entries form.
        self.label_space: Any = None
        if is_sparse(y_true):
            self._from_sparse(y_true, as_entries)
            return
        labels = ops.convert_to_tensor(y_true)
        rank = static_rank(labels, "y_true", (1, 2))
        self.batch_size = ops.shape(labels)[0]
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
        self.num_labels = self.label_space = labels.shape[1]
        if as_entries or _use_entries(self.num_labels):
            import tensorflow as tf

            entries = tf.where(tf.not_equal(labels, 0.0))
            self.valid = ops.all(ops.equal(tf.gather_nd(labels, entries), 1.0))
            require(self.valid, "`y_true` must be multi-hot: every value 0 or 1.")
            self._set_entries(entries[:, 0], entries[:, 1])
            return
        self.valid = ops.all(ops.logical_or(labels == 0.0, labels == 1.0))
        require(
            self.valid,
            "`y_true` must be multi-hot: every value 0 or 1 (for integer "
            "class ids pass shape [B]).",
        )
        self.multi_hot = labels
        self.sizes = ops.sum(labels, axis=1)

    def _from_sparse(self, labels, as_entries: bool) -> None:
        import tensorflow as tf

        static_rank(labels, "y_true", (2,))
        self.batch_size = tf.shape(labels, out_type=tf.int64)[0]
        self.num_labels = labels.shape[1]
        self.label_space = labels.dense_shape[1]
        values = tf.cast(labels.values, "float32")
        self.valid = tf.reduce_all(tf.equal(values, 1.0))
        require(
            self.valid,
            "Sparse `y_true` must hold ones only: one entry per (sample, label).",
        )
        in_range = tf.reduce_all(labels.indices[:, 1] < labels.dense_shape[1])
        require(in_range, "Sparse `y_true` has a label index beyond its width L.")
        self.valid = tf.logical_and(self.valid, in_range)
        if as_entries or _use_entries(self.num_labels):
            self._set_entries(labels.indices[:, 0], labels.indices[:, 1])
            return
        self.multi_hot = tf.sparse.to_dense(
            tf.SparseTensor(labels.indices, values, labels.dense_shape),
            validate_indices=False,
        )
        self.sizes = tf.reduce_sum(self.multi_hot, axis=1)

    def _set_entries(self, rows, cols) -> None:
        import tensorflow as tf

        self.entries = (rows, cols)
        self.sizes = tf.math.unsorted_segment_sum(
            tf.ones_like(rows, dtype="float32"), rows, self.batch_size
        )

    @classmethod
    def from_padded_indices(cls, label_indices, num_labels: int) -> LabelSets:
        """Label sets as entries from indices `[N, K]` padded with -1 (the
        queue's storage; the indices are trusted)."""
        import tensorflow as tf

        sets = cls.__new__(cls)
        sets.class_ids = sets.multi_hot = None
        sets.num_labels = sets.label_space = num_labels
        sets.batch_size = tf.shape(label_indices, out_type=tf.int64)[0]
        sets.valid = tf.constant(True)
        entries = tf.where(label_indices >= 0)
        sets._set_entries(
            entries[:, 0], tf.cast(tf.gather_nd(label_indices, entries), tf.int64)
        )
        return sets

    def padded_indices(self, max_labels: int):
        """`[N, max_labels]` int32 label indices padded with -1 (entries
        form); fails with a named error if a sample has more labels."""
        import tensorflow as tf

        assert self.entries is not None
        rows, cols = self.entries
        order = tf.argsort(rows, stable=True)
        rows, cols = tf.gather(rows, order), tf.gather(cols, order)
        first = tf.searchsorted(rows, rows, side="left", out_type=tf.int64)
        slot = tf.range(tf.size(rows, out_type=tf.int64)) - first
        fits = tf.reduce_all(slot < max_labels)
        require(
            fits,
            f"A sample carries more than max_labels={max_labels} labels; raise "
            "`max_labels`.",
        )
        slot = tf.minimum(slot, max_labels - 1)
        return tf.tensor_scatter_nd_update(
            -tf.ones(tf.stack([self.batch_size, max_labels]), tf.int32),
            tf.stack([rows, slot], axis=1),
            tf.cast(cols, tf.int32),
        )

    # `valid` (scalar bool): every label value is allowed. XLA drops the
    # assertions of `require`, so the losses also turn invalid labels into NaN.


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
                "Anchor and contrast labels must both be multi-label or both be "
                "class ids."
            )
        if anchors.num_labels != others.num_labels:
            raise ValueError(
                "Anchor and contrast labels must have the same number of labels; "
                f"received {anchors.num_labels} and {others.num_labels}."
            )
        if (anchors.entries is None) != (others.entries is None):
            raise ValueError(
                "Anchor and contrast labels must both be dense or both be "
                "entries; build them alike (`as_entries`)."
            )
        self.anchors = anchors
        self.others = others
        self.includes_self = includes_self
        multiplicity = ops.cast(multiplicity, "float32")
        self._joined: _SharedEntries | None = None
        if anchors.class_ids is not None:
            self._same_class = ops.cast(
                ops.equal(anchors.class_ids[:, None], others.class_ids[None, :]),
                "float32",
            )
            # Each anchor carries one label; its count is all the model needs.
            self._anchor_label_counts = ops.matmul(self._same_class, multiplicity)
        elif anchors.entries is not None:
            self._joined = _SharedEntries(anchors, others, multiplicity)
        else:
            self._label_counts = ops.matmul(multiplicity, others.multi_hot)

    def sum_over_labels(self, per_label: Callable) -> keras.KerasTensor:
        """`[N]`: for each anchor, the sum of `per_label(count)` over its labels."""
        if self.anchors.class_ids is not None:
            return per_label(self._anchor_label_counts)
        if self._joined is not None:
            return self._joined.sum_over_labels(per_label)
        return ops.matmul(self.anchors.multi_hot, per_label(self._label_counts))

    def sum_over_shared_labels(
        self, per_label: Callable | None = None
    ) -> keras.KerasTensor:
        """`[N, M]`: for each pair, the sum of `per_label(count)` over the labels
        both samples carry; with no function, the size of the intersection."""
        if self.anchors.class_ids is not None:
            if per_label is None:
                return self._same_class
            return self._same_class * per_label(self._anchor_label_counts)[:, None]
        if self._joined is not None:
            return self._joined.sum_over_shared_labels(per_label)
        left = self.anchors.multi_hot
        if per_label is not None:
            left = left * per_label(self._label_counts)[None, :]
        return ops.matmul(left, ops.transpose(self.others.multi_hot))


class _SharedEntries:
    """Pair counts from (sample, label) entries (TensorFlow).

    The DENSE_LABEL_COLUMNS labels with the most (anchor entry, contrast
    entry) pairs fill two small dense matrices whose product counts them;
    every other label is joined entry by entry (contrast entries sorted by
    label, a run of them per anchor entry) and its pairs are added to the
    `[N, M]` result. Per-label values live in `[L]` vectors: a few passes over
    L, none over N · L.

    Under XLA, where a number of pairs cannot size a tensor, each anchor
    entry instead gathers its label's row of an `[L, M]` membership matrix:
    O(L · M) memory and O(nnz · M) time.
    """

    def __init__(self, anchors: LabelSets, others: LabelSets, multiplicity) -> None:
        import tensorflow as tf

        assert anchors.entries is not None and others.entries is not None
        rows, cols = anchors.entries
        other_rows, other_cols = others.entries
        self.rows, self.cols = rows, cols
        self.shape = tf.stack(
            [
                tf.cast(anchors.batch_size, tf.int64),
                tf.cast(others.batch_size, tf.int64),
            ]
        )
        num_labels = anchors.label_space
        self.label_counts = tf.math.unsorted_segment_sum(
            tf.gather(multiplicity, other_rows), other_cols, num_labels
        )

        def occurrences(labels):
            return tf.math.unsorted_segment_sum(
                tf.ones_like(labels, dtype="float32"), labels, num_labels
            )

        self.members = None
        if in_xla_graph():
            self.members = tf.scatter_nd(
                tf.stack([other_cols, other_rows], axis=1),
                tf.ones_like(other_rows, dtype="float32"),
                tf.stack([tf.cast(num_labels, tf.int64), self.shape[1]]),
            )
            return
        # A batch contrasted with itself (the usual case) counts once.
        same = others is anchors
        other_occurrences = occurrences(other_cols)
        anchor_occurrences = other_occurrences if same else occurrences(cols)
        pair_counts = anchor_occurrences * other_occurrences
        columns = tf.minimum(tf.cast(num_labels, tf.int64), DENSE_LABEL_COLUMNS)
        self.dense_labels = tf.cast(
            tf.math.top_k(
                pair_counts, tf.cast(columns, tf.int32), sorted=False
            ).indices,
            tf.int64,
        )
        column_of = tf.tensor_scatter_nd_update(
            -tf.ones(tf.reshape(num_labels, [1]), tf.int64),
            self.dense_labels[:, None],
            tf.range(columns),
        )

        def dense(entry_rows, entry_cols, num_rows):
            column = tf.gather(column_of, entry_cols)
            kept = tf.where(column >= 0)[:, 0]
            return tf.scatter_nd(
                tf.stack([tf.gather(entry_rows, kept), tf.gather(column, kept)], 1),
                tf.ones_like(kept, dtype="float32"),
                tf.stack([num_rows, columns]),
            )

        self.dense_others = dense(other_rows, other_cols, self.shape[1])
        self.dense_anchors = (
            self.dense_others if same else dense(rows, cols, self.shape[0])
        )

        # The join of the other labels: contrast entries sorted by label (the
        # dense ones last), so each label's entries form one run.
        joined = column_of < 0
        runs = tf.where(joined, tf.cast(other_occurrences, tf.int64), 0)
        run_starts = tf.cumsum(runs, exclusive=True)
        by_label = tf.argsort(
            tf.where(tf.gather(joined, other_cols), other_cols, num_labels),
            stable=True,
        )
        anchor_entries = tf.where(tf.gather(joined, cols))[:, 0]
        anchor_labels = tf.gather(cols, anchor_entries)
        run = tf.gather(runs, anchor_labels)
        pair_ends = tf.cumsum(run)
        num_pairs = tf.reduce_sum(run)
        pair_range = tf.range(num_pairs)
        # Pair p belongs to the anchor entry whose run of pairs holds p: the
        # number of runs that end at or before p.
        ended = tf.math.unsorted_segment_sum(
            tf.ones_like(run), pair_ends, num_pairs + 1
        )
        owner = tf.cumsum(ended)[:-1]
        offset = tf.gather(run_starts, anchor_labels) - pair_ends + run
        other_entries = tf.gather(by_label, tf.gather(offset, owner) + pair_range)
        self.pair_label = tf.gather(anchor_labels, owner)
        # Pairs as flat indices of the [N, M] result: a segment sum over them
        # is cheaper than a scatter into the matrix.
        pair_rows = tf.gather(tf.gather(rows, anchor_entries), owner)
        pair_columns = tf.gather(other_rows, other_entries)
        self.pair_cell = pair_rows * self.shape[1] + pair_columns

    def sum_over_labels(self, per_label: Callable):
        import tensorflow as tf

        values = tf.gather(per_label(self.label_counts), self.cols)
        return tf.math.unsorted_segment_sum(values, self.rows, self.shape[0])

    def sum_over_shared_labels(self, per_label: Callable | None):
        import tensorflow as tf

        if self.members is not None:
            shared = tf.gather(self.members, self.cols)
            if per_label is not None:
                values = per_label(self.label_counts)
                shared = shared * tf.gather(values, self.cols)[:, None]
            return tf.math.unsorted_segment_sum(shared, self.rows, self.shape[0])
        left = self.dense_anchors
        pair_values = tf.ones_like(self.pair_label, dtype="float32")
        if per_label is not None:
            values = per_label(self.label_counts)
            left = left * tf.gather(values, self.dense_labels)[None, :]
            pair_values = tf.gather(values, self.pair_label)
        joined = tf.math.unsorted_segment_sum(
            pair_values, self.pair_cell, self.shape[0] * self.shape[1]
        )
        return tf.matmul(left, self.dense_others, transpose_b=True) + tf.reshape(
            joined, self.shape
        )


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
