"""Two worker processes on this machine (TF_CONFIG, two 127.0.0.1 ports)
train ContrastiveModel with MultiWorkerMirroredStrategy through
`fit_distributed`; one process trains the same global batches with `fit`."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow_only

ROOT = Path(__file__).resolve().parents[1]
EPOCHS, STEPS = 3, 6  # as in multi_worker.py


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for server in sockets:
        server.bind(("127.0.0.1", 0))
    ports = [server.getsockname()[1] for server in sockets]
    for server in sockets:
        server.close()
    return ports


def start(options: dict) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "tensorflow"}
    env.pop("TF_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "multi_worker.py"), json.dumps(options)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen) -> None:
    _, errors = process.communicate(timeout=300)
    assert process.returncode == 0, errors.decode()[-3000:]


def start_workers(tmp_path: Path, run: str, **options) -> list[subprocess.Popen]:
    ports = free_ports(2)
    return [
        start(
            {
                "ports": ports,
                "index": index,
                "log": str(tmp_path / f"{run}-{index}.log"),
                "weights": str(tmp_path / f"{run}-{index}.npz"),
                **options,
            }
        )
        for index in range(2)
    ]


def reference(tmp_path: Path, **options) -> dict:
    weights = tmp_path / "reference.npz"
    log = str(tmp_path / "reference.log")
    finish(start({"log": log, "weights": str(weights), **options}))
    return dict(np.load(weights))


def assert_same_training(trained: dict, expected: dict, queue: bool = True) -> None:
    assert int(trained["steps"]) == int(expected["steps"]) == EPOCHS * STEPS
    names = sorted(
        (key for key in expected if key != "steps"), key=lambda k: int(k[1:])
    )
    queue_embeddings, queue_labels = names[0], names[1]  # w0, w1: the queue
    for name in names:
        if queue and name in (queue_embeddings, queue_labels):
            continue
        np.testing.assert_allclose(trained[name], expected[name], atol=1e-5)
    if not queue:
        return
    # The workers enqueue each global batch in worker order, the reference in
    # sample order: the same keys and labels, rows permuted.
    np.testing.assert_allclose(
        _rows(trained[queue_embeddings], trained[queue_labels]),
        _rows(expected[queue_embeddings], expected[queue_labels]),
        atol=1e-5,
    )


def _rows(embeddings, labels) -> np.ndarray:
    rows = np.concatenate([np.sort(labels, axis=1), embeddings], axis=1)
    return rows[np.lexsort(np.round(rows, 4).T[::-1])]


def _small_model():
    import keras

    from sdl_keras.models import ContrastiveModel, ProjectionHead

    keras.utils.set_random_seed(0)
    encoder = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8)])
    model = ContrastiveModel(encoder, ProjectionHead(4, (8,)), num_labels=3)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    return model


def test_in_one_process_it_trains_as_fit_does(tmp_path):
    import tensorflow as tf

    from sdl_keras.distributed import fit_distributed

    rng = np.random.default_rng(0)
    views = rng.normal(size=(32, 2, 6)).astype("float32")
    labels = np.eye(3, dtype="float32")[np.arange(32) % 3]
    expected = _small_model()
    expected.fit(views, labels, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model = _small_model()
    batches = tf.data.Dataset.from_tensor_slices((views, labels)).batch(8)
    history = fit_distributed(
        model, batches, 2, 4, backup_dir=tmp_path / "backup", verbose=0
    )
    assert len(history.history["loss"]) == 2
    for actual, wanted in zip(model.get_weights(), expected.get_weights(), strict=True):
        np.testing.assert_allclose(actual, wanted, atol=1e-6)
    assert not (tmp_path / "backup").exists()
    with pytest.raises(ValueError, match="ran out after 4 steps of epoch 1"):
        fit_distributed(_small_model(), batches, 1, 5, verbose=0)


@pytest.mark.slow
@pytest.mark.parametrize("queue_size", [0, 64])
def test_two_workers_train_like_one_process(tmp_path, queue_size):
    workers = start_workers(tmp_path, "clean", queue_size=queue_size)
    expected = reference(tmp_path, queue_size=queue_size)
    for worker in workers:
        finish(worker)
    for index in range(2):
        assert_same_training(
            dict(np.load(tmp_path / f"clean-{index}.npz")), expected, queue_size > 0
        )


@pytest.mark.slow
def test_a_killed_job_resumes_from_its_backup(tmp_path):
    backup = tmp_path / "backup"
    log = tmp_path / "killed-0.log"
    workers = start_workers(tmp_path, "killed", backup=str(backup), pause=0.2)
    deadline = time.monotonic() + 300
    while not any(
        record["epoch"] == 1 and record["batch"] >= 2
        for record in map(
            json.loads, log.read_text().splitlines() if log.exists() else []
        )
    ):
        for worker in workers:
            assert worker.poll() is None, worker.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, "the workers made no progress"
        time.sleep(0.05)
    # One worker dies mid-epoch; the job (both workers) is started again.
    workers[1].send_signal(signal.SIGKILL)
    workers[0].send_signal(signal.SIGKILL)
    for worker in workers:
        worker.wait()
    assert backup.is_dir() and not (tmp_path / "killed-0.npz").exists()
    trained_before = sum(1 for _ in log.read_text().splitlines())
    assert STEPS < trained_before < EPOCHS * STEPS

    restarted = start_workers(tmp_path, "resumed", backup=str(backup))
    expected = reference(tmp_path)
    for worker in restarted:
        finish(worker)
    resumed = [
        json.loads(line)
        for line in (tmp_path / "resumed-0.log").read_text().splitlines()
    ]
    # Only the steps after the last backup are trained again.
    assert trained_before + len(resumed) in (EPOCHS * STEPS, EPOCHS * STEPS + 1)
    assert resumed[0]["epoch"] == 1
    for index in range(2):
        assert_same_training(dict(np.load(tmp_path / f"resumed-{index}.npz")), expected)
    assert not backup.exists()  # removed once training completes


def test_the_command_line_trains_under_tf_config(tmp_path):
    from tests.test_cli import TINY, run_cli

    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    # Every worker runs the same command; only the chief (worker 0) writes.
    command = [
        "train", "--task", "hpo", *TINY, "--no-reference", "--no-linear-blend",
        "--output-dir", tmp_path / "run", "--verbose", "0",
    ]  # fmt: skip
    workers = [
        run_cli(
            *command,
            environment={
                "TF_CONFIG": json.dumps(
                    {"cluster": cluster, "task": {"type": "worker", "index": index}}
                )
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for index in range(2)
    ]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    for worker, (_, errors) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, errors[-3000:]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["pretrain"]["loss"]) == 1
    assert "wrote" in outputs[0][0] and "wrote" not in outputs[1][0]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]
