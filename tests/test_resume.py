"""Nothing lost on a crash: SIGKILL mid-epoch, restart, resume from backup."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.tensorflow_only

ROOT = Path(__file__).resolve().parents[1]
EPOCHS, STEPS = 4, 12


def start(kind: str, backup: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "tensorflow"}
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "resume_worker.py"),
            kind,
            str(backup),
            str(log),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def records(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [
        json.loads(line) for line in log.read_text().splitlines() if line.endswith("}")
    ]


@pytest.mark.parametrize("kind", ["contrastive", "classifier"])
def test_training_resumes_after_sigkill(tmp_path, kind):
    backup, killed_log, resumed_log = (
        tmp_path / "backup",
        tmp_path / "1.log",
        tmp_path / "2.log",
    )
    process = start(kind, backup, killed_log)
    deadline = time.monotonic() + 300
    while not any(
        r["event"] == "batch" and r["epoch"] == 2 and r["batch"] >= 4
        for r in records(killed_log)
    ):
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = records(killed_log)
    assert not any(r["event"] == "done" for r in killed)
    last_backup = [r for r in killed if r["event"] == "epoch_end"][-1]
    assert last_backup["epoch"] == 1

    process = start(kind, backup, resumed_log)
    _, errors = process.communicate(timeout=300)
    assert process.returncode == 0, errors.decode()[-3000:]
    resumed = records(resumed_log)
    begin = resumed[0]
    # The restart holds exactly the state backed up after epoch 1: every
    # weight (queue included) and every optimizer's step count.
    assert begin["event"] == "train_begin"
    assert begin["checksum"] == pytest.approx(last_backup["checksum"], rel=1e-6)
    assert begin["iterations"] == last_backup["iterations"]
    assert all(count == 2 * STEPS for count in begin["iterations"])
    epochs = [r["epoch"] for r in resumed if r["event"] == "epoch_end"]
    assert epochs == [2, 3]
    assert resumed[-1]["event"] == "done"
    finished = [r for r in resumed if r["event"] == "epoch_end"][-1]
    # A clean run of four epochs takes the same number of steps.
    assert all(count == EPOCHS * STEPS for count in finished["iterations"])
    assert not backup.exists()  # deleted once training completes
