"""Labels in tf.data pipelines: multi-hot rows, or the large-label form.

In the large-label form each example carries only its label indices; a batch
pads them with -1 and becomes a `tf.SparseTensor` `[B, L]`
(`sdl_keras.relations.sparse_labels`), so neither the dataset nor its cache
nor the contrastive step ever holds `[N, L]` or `[B, L]`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from sdl_keras import relations

PAD_LABEL = -1


def large_label_form(num_labels: int) -> bool:
    """Whether labels this wide go to contrastive training in the large-label
    form (from `sdl_keras.relations.SPARSE_MIN_LABELS` labels on)."""
    return num_labels >= relations.SPARSE_MIN_LABELS


def check_labels(labels, num_examples: int):
    """`labels` as float32 `[N, L]` multi-hot or a SciPy sparse matrix, with N
    checked against the examples."""
    if not hasattr(labels, "tocsr"):
        labels = np.asarray(labels, dtype="float32")
    if len(labels.shape) != 2 or labels.shape[0] != num_examples:
        raise ValueError(
            f"`labels` must be [N, L] with N = {num_examples} examples; received "
            f"shape {tuple(labels.shape)}."
        )
    return labels


def label_dataset(labels, large: bool) -> tf.data.Dataset:
    """One element per example: its float32 multi-hot row `[L]`, or with
    `large`, its int32 label indices `[k]`.

    Args:
        labels: multi-hot `[N, L]`, dense or a SciPy sparse matrix.
        large: yield label indices (batch them with `batch_examples`).
    """
    if not large:
        dense = labels.toarray() if hasattr(labels, "tocsr") else labels
        return tf.data.Dataset.from_tensor_slices(np.asarray(dense, "float32"))
    from scipy import sparse

    rows = sparse.csr_matrix(labels)
    rows.eliminate_zeros()
    ragged = tf.RaggedTensor.from_row_splits(
        rows.indices.astype("int32"), rows.indptr.astype("int64")
    )
    # Unbatched ragged rows carry a ragged spec; as tensors they pad.
    return tf.data.Dataset.from_tensor_slices(ragged).map(tf.identity)


def batch_examples(
    dataset: tf.data.Dataset,
    batch_size: int,
    large: bool,
    drop_remainder: bool = False,
    padded_shapes=None,
    padding_values=None,
) -> tf.data.Dataset:
    """Batches `(inputs, labels)` elements; label indices pad with -1.

    `padded_shapes` / `padding_values` give the inputs' padding (tokens), as
    for `tf.data.Dataset.padded_batch`; the labels' own are set here."""
    if padded_shapes is None and not large:
        return dataset.batch(batch_size, drop_remainder=drop_remainder)
    label_shape = [None] if large else dataset.element_spec[1].shape
    label_padding = PAD_LABEL if large else None
    return dataset.padded_batch(
        batch_size,
        padded_shapes=None if padded_shapes is None else (padded_shapes, label_shape),
        padding_values=(padding_values, label_padding),
        drop_remainder=drop_remainder,
    )


def to_large_label_form(dataset: tf.data.Dataset, num_labels: int) -> tf.data.Dataset:
    """Turns batched label indices `[B, k]` (padded with -1) into the
    large-label form."""
    return dataset.map(
        lambda inputs, indices: (
            inputs,
            relations.sparse_labels(indices, num_labels),
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
