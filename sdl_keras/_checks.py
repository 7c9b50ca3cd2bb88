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


def require(condition, message: str) -> None:
    """Raises `ValueError(message)` unless the scalar bool `condition` holds.

    Eagerly the check is immediate. In a TensorFlow graph (`fit` without XLA) it
    becomes an assertion whose `InvalidArgumentError` carries the same message;
    under JAX tracing a host callback raises it. XLA-compiled TensorFlow graphs
    drop assertions, so there the check costs nothing and checks nothing.
    """
    if not _in_compiled_graph(condition):
        if not bool(ops.convert_to_numpy(condition)):
            raise ValueError(message)
        return
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.debugging.Assert(condition, [message])
    elif backend == "jax":
        import jax

        def _raise_unless(ok):
            if not ok:
                raise ValueError(message)

        jax.debug.callback(_raise_unless, condition)


def static_rank(tensor, name: str, allowed: tuple[int, ...]) -> int:
    rank = len(tensor.shape)
    if rank not in allowed:
        raise ValueError(
            f"`{name}` must have rank {' or '.join(map(str, allowed))}; "
            f"received shape {tuple(tensor.shape)}."
        )
    return rank
