"""Contrast across replicas: two logical CPUs against one device."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow_only

ROOT = Path(__file__).resolve().parents[1]


def run_worker(options: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "distributed_worker.py"),
            json.dumps(options),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    return json.loads(lines[0].removeprefix("RESULT "))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {
            "num_labels": 5,
            "classification_weight": 0.5,
            "queue_size": 32,
            "momentum": 0.5,
        },
    ],
    ids=["in-batch", "joint-with-queue"],
)
def test_two_replicas_match_one_device(options):
    result = run_worker(options)
    assert result["replicas"] == 2
    mirrored, single = result["mirrored"], result["single"]
    assert mirrored["logs"].keys() == single["logs"].keys()
    for name, value in single["logs"].items():
        assert mirrored["logs"][name] == pytest.approx(value, rel=1e-5), name
    moved = 0
    for name, start, left, right in zip(
        result["names"],
        result["initial"],
        mirrored["weights"],
        single["weights"],
        strict=True,
    ):
        # SGD with learning rate 1: equal weights after two steps mean equal
        # gradients (the second step also sees the queue filled by the first).
        np.testing.assert_allclose(left, right, atol=1e-6, err_msg=name)
        moved += not np.allclose(start, right)
        if name == "queue_filled":
            assert sum(right) == 16  # two steps · 4 samples · 2 views
    assert moved >= 4
