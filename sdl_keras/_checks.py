"""Value checks that raise a clear error eagerly and inside compiled graphs."""

import keras
from keras import ops


def _in_compiled_graph(tensor) -> bool:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return not tf.executing_eagerly()
    if backend == "jax":
        import jax

        return isinstance(tensor, jax.core.Tracer)
    return False


def in_xla_graph() -> bool:
    """Whether TensorFlow is tracing a function for XLA (`jit_compile`),
    where shapes may not depend on tensor values."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf
    from tensorflow.python.ops import control_flow_util

    graph = tf.compat.v1.get_default_graph()
    return bool(control_flow_util.GraphOrParentsInXlaContext(graph))


def require(condition, message: str, guard=None):
    """Raises `ValueError(message)` unless the scalar bool `condition` holds.

    Eagerly the check is immediate. In a TensorFlow graph (`fit` without XLA) it
    becomes an assertion whose `InvalidArgumentError` carries the same message;
    under JAX tracing a host callback raises it. XLA-compiled TensorFlow graphs
    drop assertions, so there the check costs nothing and checks nothing.

    A graph runs its assertions in no fixed order with the other ops; where a
    failed check would make a later op fail with its own, vaguer error (a
    shape mismatch), pass that op's input as `guard`: the returned `guard`
    is only computed after the check.
    """
    if not _in_compiled_graph(condition):
        if not bool(ops.convert_to_numpy(condition)):
            raise ValueError(message)
        return guard
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        assertion = tf.debugging.Assert(condition, [message])
        if guard is not None:
            with tf.control_dependencies([assertion]):
                return tf.identity(guard)
    elif backend == "jax":
        import jax

        def _raise_unless(ok):
            if not ok:
                raise ValueError(message)

        jax.debug.callback(_raise_unless, condition)
    return guard


def static_rank(tensor, name: str, allowed: tuple[int, ...]) -> int:
    rank = len(tensor.shape)
    if rank not in allowed:
        raise ValueError(
            f"`{name}` must have rank {' or '.join(map(str, allowed))}; "
            f"received shape {tuple(tensor.shape)}."
        )
    return rank


def check_label_values(labels, name: str = "y") -> None:
    """Raises `ValueError` unless `labels` (an array) are multi-hot 0/1
    `[N, L]` or non-negative integer class ids `[N]`."""
    import numpy as np

    if hasattr(labels, "tocoo") or type(labels).__name__ == "SparseTensor":
        # SciPy sparse matrices and tf.SparseTensor: the stored values.
        stored = labels.tocoo() if hasattr(labels, "tocoo") else None
        entries = stored.data if stored is not None else np.asarray(labels.values)
        if len(labels.shape) != 2 or not np.all(entries == 1):
            raise ValueError(
                f"Sparse `{name}` must be [N, L] and hold ones only; received "
                f"shape {tuple(labels.shape)}."
            )
        return
    values = np.asarray(labels)
    if values.dtype == object or values.ndim not in (1, 2):
        raise ValueError(
            f"`{name}` must be multi-hot labels [N, L] or class ids [N]; "
            f"received shape {values.shape} of {values.dtype}."
        )
    if values.ndim == 2:
        bad = ~np.isin(values, (0, 1))
        expected = "multi-hot: every value 0 or 1"
    else:
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
        expected = "class ids: non-negative integers"
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"`{name}` must be {expected}; found {values[where]} at {where}."
        )


def checked_training_data(x, y, validation_data):
    """The `fit` inputs with their labels checked where XLA cannot drop the
    check: eagerly for arrays, in the input pipeline for a `tf.data.Dataset`
    (whose map functions are never XLA-compiled)."""
    return (*_with_checked_labels(x, y, "y"), _checked_validation(validation_data))


def _checked_validation(validation_data):
    if validation_data is None:
        return None
    if isinstance(validation_data, (tuple, list)):
        inputs, labels = _with_checked_labels(
            validation_data[0], validation_data[1], "validation labels"
        )
        return (inputs, labels, *validation_data[2:])
    return _with_checked_labels(validation_data, None, "validation labels")[0]


def _with_checked_labels(x, y, name: str) -> tuple:
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
        return x.map(_asserting_labels(name)), y
    if y is not None and not isinstance(y, (dict, tf.Tensor)):
        check_label_values(y, name)
    return x, y


def _asserting_labels(name: str):
    import tensorflow as tf

    def check(*batch):
        if len(batch) > 1:
            labels = batch[1]
            if isinstance(labels, tf.SparseTensor):
                valid = tf.reduce_all(tf.equal(labels.values, 1))
                message = f"Sparse `{name}` must hold ones only."
                with tf.control_dependencies([tf.debugging.Assert(valid, [message])]):
                    labels = tf.SparseTensor(
                        tf.identity(labels.indices), labels.values, labels.dense_shape
                    )
                return (batch[0], labels, *batch[2:])
            labels = tf.convert_to_tensor(labels)
            if labels.shape.rank == 2:
                valid = tf.reduce_all(
                    tf.logical_or(tf.equal(labels, 0), tf.equal(labels, 1))
                )
                message = f"`{name}` must be multi-hot: every value 0 or 1."
            else:
                valid = tf.reduce_all(labels >= 0)
                message = f"`{name}` must be class ids: non-negative integers."
            with tf.control_dependencies([tf.debugging.Assert(valid, [message])]):
                batch = (batch[0], tf.identity(labels), *batch[2:])
        return batch if len(batch) > 1 else batch[0]

    return check
