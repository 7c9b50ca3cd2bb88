"""The examples: each in keras.io's example form, each run offline in a
child process as a reader runs it (with small schedules)."""

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_example

EXAMPLES = sorted(
    path
    for path in (Path(__file__).resolve().parents[1] / "examples").glob("*.py")
    if not path.name.startswith("_")
)
HEADER = ["Title", "Author", "Date created", "Last modified", "Description"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_keras_io_example_form(path):
    tree = ast.parse(path.read_text("utf-8"))
    strings = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    ]
    fields = re.findall(r"^([A-Z][a-z ]+): (.+)$", strings[0], re.MULTILINE)
    assert [name for name, _ in fields][:5] == HEADER, fields
    for name, value in fields:
        if name.startswith("Date") or name == "Last modified":
            assert re.fullmatch(r"\d{4}/\d{2}/\d{2}", value), (name, value)
    sections = [text.strip().split("\n")[0] for text in strings[1:]]
    assert sections[:2] == ["## Introduction", "## Setup"], sections
    assert all(section.startswith("## ") for section in sections)
    assert len(sections) >= 4  # prose between the steps, not one block on top
    # A tutorial reads top to bottom: no main() to hide the steps in.
    assert not any(
        isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body
    )


def test_quickstart_example():
    done = run_example("quickstart", "--epochs", "2")
    assert "| SDL embedding (k-NN) |" in done.stdout


def test_default_recipe_refuses_a_study_a_task_has_no_option_for():
    """`--drop-rate` changes text and tabular views, `--hidden-layers` the
    bag-of-words encoder: image views have no such rate, Yeast no such
    encoder, and the script says so before training anything."""
    done = run_example(
        "default_recipe", "--tasks", "yeast", "scenes", "--drop-rate", "0.5",
        returncode=2,
    )  # fmt: skip
    assert "--drop-rate is for tabular and text tasks: image views" in done.stderr
    done = run_example(
        "default_recipe", "--tasks", "hpo", "yeast", "--hidden-layers", "2",
        returncode=2,
    )  # fmt: skip
    assert "--hidden-layers is for text tasks: the bag-of-words" in done.stderr


def test_default_recipe_places_the_nearest_neighbours_reference(tmp_path):
    """The recipe's table has the 10-nearest-neighbours reference on the task
    as both rows saw it (`--limit`): its mAP equals cosine neighbours
    computed here with NumPy on the standardised Yeast features."""
    from sdl_keras.metrics import mean_average_precision
    from sdl_keras.run_config import RunConfig
    from sdl_keras.tasks import load_task

    done = run_example(
        "default_recipe", "--tasks", "yeast", "--seeds", "0", "--limit", "200",
        "--pretrain-epochs", "1", "--classifier-epochs", "1",
        "--output-dir", str(tmp_path),
    )  # fmt: skip
    row = next(
        line for line in done.stdout.splitlines() if "| 10 nearest neighbours |" in line
    )
    reported = float(row.split("|")[5])
    task = load_task(RunConfig(task="yeast", limit=200))
    train, test = (
        np.asarray(features, dtype=float)
        for features in task.pipeline.reference_features(task.train, task.test)
    )
    train, test = (x / np.linalg.norm(x, axis=1, keepdims=True) for x in (train, test))
    nearest = np.argsort(-(test @ train.T), axis=1, kind="stable")[:, :10]
    scores = task.train.y[nearest].mean(axis=1)
    expected = mean_average_precision(task.test.y, scores)
    assert reported == pytest.approx(expected, abs=6e-5)
    assert (tmp_path / "yeast" / "knn_limit200.json").is_file()  # kept beside the runs


def test_tabular_example(tmp_path):
    output = tmp_path / "yeast.json"
    done = run_example(
        "yeast", "--seeds", "0", "--losses", "none", "sdl", "--pretrain-epochs", "1",
        "--classifier-epochs", "2", "--output", str(output),
    )  # fmt: skip
    assert "| SDL |" in done.stdout.replace("sdl", "SDL") and output.is_file()
    assert "minus BCE only" in done.stdout


def test_images_example(tmp_path):
    done = run_example(
        "train_scenes", "--source", "digits", "--num-train", "200", "--num-test", "60",
        "--canvas", "32", "--losses", "sdl", "--seeds", "0", "--pretrain-epochs", "1",
        "--classifier-epochs", "1", "--output", str(tmp_path / "scenes.json"),
    )  # fmt: skip
    assert "| sdl |" in done.stdout and (tmp_path / "scenes.json").is_file()


def test_hpo_example(tmp_path):
    done = run_example(
        "train_hpo", "--level", "1", "--limit", "300", "--losses", "sdl", "--seeds",
        "0", "--pretrain-epochs", "1", "--classifier-epochs", "1", "--max-length", "32",
    )  # fmt: skip
    assert "| sdl |" in done.stdout


def test_serving_example(tmp_path):
    done = run_example(
        "serving", "--documents", "300", "--epochs", "1",
        "--export-dir", str(tmp_path / "exports"),
    )  # fmt: skip
    assert "largest difference to Keras" in done.stdout
    assert (tmp_path / "exports" / "1" / "saved_model.pb").is_file()
