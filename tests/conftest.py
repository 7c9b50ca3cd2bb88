import json

import keras
import numpy as np
import pytest


def random_multi_hot(rng, batch, num_labels, density, empty_rows=0):
    labels = (rng.random((batch, num_labels)) < density).astype("float32")
    for row in range(batch):
        if not labels[row].any():
            labels[row, rng.integers(num_labels)] = 1.0
    labels[:empty_rows] = 0.0
    return labels


def gradient(fn, x):
    """Value and gradient of scalar fn at the float32 array x, on any backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        variable = tf.Variable(x)
        with tf.GradientTape() as tape:
            value = fn(variable)
        return float(value), tape.gradient(value, variable).numpy()
    if backend == "jax":
        import jax

        value, grad = jax.value_and_grad(lambda v: fn(v))(x)
        return float(value), np.asarray(grad)
    if backend == "torch":
        import torch

        variable = torch.tensor(x, requires_grad=True)
        value = fn(variable)
        value.backward()
        return float(value.detach()), variable.grad.numpy()
    pytest.skip(f"no gradient helper for backend {backend}")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def tensorflow_backend():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("needs the TensorFlow backend")


@pytest.fixture
def restore_policy():
    policy = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(policy)


def run_example(name: str, *arguments: str, returncode: int = 0):
    """Runs `examples/<name>.py` in a child process, which must exit with
    `returncode`; returns its result."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, str(root / "examples" / f"{name}.py"), *arguments]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == returncode, done.stderr[-3000:]
    return done


def write_jsonl(path, rows):
    """`rows` as a JSONL file, one object a line; returns `path`."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), "utf-8")
    return path


def hpo_rows(count: int, offset: int = 0) -> list[dict]:
    """HPO term definitions as own-data rows: `text` and the names of their
    organ systems as `labels`."""
    from sdl_keras.datasets.hpo import load_hpo

    texts, labels, vocabulary = load_hpo(1)
    names = vocabulary.decode(labels[offset : offset + count])
    return [
        {"text": text, "labels": row}
        for text, row in zip(texts[offset : offset + count], names, strict=True)
    ]
