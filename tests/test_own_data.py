"""A user's own files through the command line, as a user runs it: train,
delete the data, then evaluate, predict and export from the run directory
alone; bad files stop with the file and line named."""

import json
import shutil

import numpy as np
import pytest

from tests.conftest import hpo_rows, write_jsonl
from tests.test_cli import TINY, assert_named_error, run_cli

pytestmark = pytest.mark.usefixtures("tensorflow_backend")
TRAIN = ["--pretrain-epochs", "1", "--classifier-epochs", "3", "--verbose", "0"]


def _succeeds(done):
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_text_jsonl_train_delete_evaluate_predict_export(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_jsonl(data / "train.jsonl", hpo_rows(400))
    test_rows = hpo_rows(60, offset=400)
    test_rows.append({"text": "a note whose code is new", "labels": ["Brand new"]})
    write_jsonl(data / "test.jsonl", test_rows)
    run = tmp_path / "run"
    done = _succeeds(
        run_cli(
            "train", "--task", "text", "--train-file", data / "train.jsonl",
            "--test-file", data / "test.jsonl", *TRAIN, "--output-dir", run,
        )
    )  # fmt: skip
    assert "labels never seen in training" in done.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"sdl", "logreg (reference)", "notes"} <= set(metrics)
    # How each row's thresholds were chosen on validation data.
    for row in ("sdl", "logreg (reference)"):
        choice = metrics[row]["thresholds"]
        assert choice["rule"] in ("per_label", "global", "per_band", "shrunk")
        shrunk = choice["rule"] == "shrunk"
        assert (choice["shrinkage"] is not None) is shrunk
        assert choice["toward"] in (("global", "bands") if shrunk else (None,))
        assert 0 < choice["global_threshold"] < 1
    assert any("held out of" in note for note in metrics["notes"])
    labels = json.loads((run / "labels.json").read_text())
    assert len(labels["codes"]) == len(labels["counts"]) and min(labels["counts"]) > 0
    assert (run / "pipeline" / "pipeline.json").is_file()
    # The run stands alone: the data are gone.
    kept = shutil.copy(data / "test.jsonl", tmp_path / "new.jsonl")
    shutil.rmtree(data)
    done = _succeeds(run_cli("evaluate", run, "--test-file", kept))
    evaluated = json.loads((run / "evaluation.json").read_text())
    tuned = metrics["sdl"]["tuned"]
    assert evaluated["tuned"]["micro_f1"] == pytest.approx(tuned["micro_f1"], abs=1e-6)
    predictions = tmp_path / "predictions.jsonl"
    _succeeds(
        run_cli(
            "predict", run, kept, "--output", predictions, "--chunk-size", "16",
            "--top-k", "3", "--embedding",
        )
    )  # fmt: skip
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert [row["line"] for row in rows] == list(range(1, len(test_rows) + 1))
    assert all(len(row["scores"]) == 3 and len(row["embedding"]) for row in rows)
    _succeeds(run_cli("export", run, "--base-dir", tmp_path / "export"))
    from sdl_keras.export import LocalServer

    server = LocalServer(tmp_path / "export")
    status, body = server.rest_predict(
        {"instances": [row["text"] for row in test_rows]}
    )
    assert status == 200
    names = labels["display_names"]
    for row, served in zip(rows, body["predictions"], strict=True):
        assert sorted(row["labels"]) == sorted(
            names[j] for j in np.flatnonzero(served["predicted"])
        )
        top = next(iter(row["scores"].items()))
        assert served["top_k_labels"][0] == top[0]
        assert served["top_k_scores"][0] == pytest.approx(top[1], abs=1e-5)


@pytest.mark.slow
def test_bad_rows_stop_with_the_line_or_are_skipped(tmp_path):
    rows = hpo_rows(150)
    lines = [json.dumps(row) for row in rows]
    lines.insert(7, '{"text": "broken json", "labels": [')
    lines.insert(20, '{"text": "", "labels": ["Abnormality of the eye"]}')
    train = tmp_path / "train.jsonl"
    train.write_text("\n".join(lines) + "\n", "utf-8")
    argv = ["train", "--task", "text", "--train-file", train, *TINY, "--verbose", "0"]
    done = run_cli(*argv, "--output-dir", tmp_path / "run")
    assert_named_error(done, f"{train}, line 8", "invalid JSON")
    assert not (tmp_path / "run").exists()
    run = tmp_path / "skipping"
    done = _succeeds(
        run_cli(*argv[:-2], "--verbose", "1", "--skip-bad-rows", "--output-dir", run)
    )
    assert "skipped 2 bad rows" in done.stdout and "lines 8, 21" in done.stdout
    for options, fragments in [
        (["--train-file", tmp_path / "absent.jsonl"], ["absent.jsonl"]),
        (["--task", "images"], ["--task images needs --train-file"]),
    ]:
        done = run_cli("train", "--task", "text", *TINY, *options)
        assert_named_error(done, *fragments)


@pytest.mark.slow
def test_tabular_arff_and_csv(tmp_path):
    from sdl_keras.datasets.yeast import load_yeast

    features, labels, names = load_yeast()
    attributes = [f"@attribute Att{i} numeric" for i in range(features.shape[1])]
    attributes += [f"@attribute {name} {{0,1}}" for name in names]

    def arff(path, rows):
        body = "\n".join(
            ",".join([*map(str, features[i]), *(str(int(v)) for v in labels[i])])
            for i in rows
        )
        path.write_text(
            "@relation yeast\n" + "\n".join(attributes) + "\n@data\n" + body
        )
        return path

    train = arff(tmp_path / "train.arff", range(400))
    test = arff(tmp_path / "test.arff", range(400, 500))
    run = tmp_path / "run"
    _succeeds(
        run_cli(
            "train", "--task", "tabular", "--train-file", train, "--test-file", test,
            "--label-count", str(len(names)), *TRAIN, "--output-dir", run,
        )
    )  # fmt: skip
    train.unlink()
    _succeeds(run_cli("evaluate", run, "--test-file", test))
    csv_input = tmp_path / "inputs.csv"
    header = ",".join(f"Att{i}" for i in range(features.shape[1]))
    rows = "\n".join(",".join(map(str, features[i])) for i in range(500, 520))
    csv_input.write_text(header + "\n" + rows + "\n")
    predictions = tmp_path / "predictions.csv"
    _succeeds(run_cli("predict", run, csv_input, "--output", predictions))
    assert len(predictions.read_text().splitlines()) == 21
    done = run_cli("export", run)
    assert_named_error(done, "no raw input form to serve")


@pytest.mark.slow
def test_images_from_a_csv_of_paths(tmp_path):
    import tensorflow as tf

    from sdl_keras.datasets import scenes

    layout = scenes.SceneConfig(canvas=24, grid=2, max_objects=2, jitter=1)
    (x, y), _ = scenes.load_scenes("digits", 120, 10, layout)
    (tmp_path / "pics").mkdir()
    lines = ["image,labels"]
    for i, (image, row) in enumerate(zip(x, y, strict=True)):
        name = f"pics/{i}.png"
        (tmp_path / name).write_bytes(tf.io.encode_png(image).numpy())
        lines.append(f"{name},{';'.join(str(d) for d in np.flatnonzero(row))}")
    table = tmp_path / "scenes.csv"
    table.write_text("\n".join(lines) + "\n")
    run = tmp_path / "run"
    _succeeds(
        run_cli(
            "train", "--task", "images", "--train-file", table, "--image-size", "24",
            *TRAIN, "--output-dir", run,
        )
    )  # fmt: skip
    # Logistic regression on pixels would need fits of its own (no linear
    # blend on images): not by default.
    assert "logreg (reference)" not in json.loads((run / "metrics.json").read_text())
    predictions = tmp_path / "predictions.jsonl"
    _succeeds(run_cli("predict", run, table, "--output", predictions))
    assert len(predictions.read_text().splitlines()) == 120
    _succeeds(run_cli("export", run))
    assert (run / "export" / "1" / "saved_model.pb").is_file()


def test_a_task_defined_outside_the_package_plugs_in(tmp_path):
    from sdl_keras.cli.main import train_run
    from sdl_keras.data.label_vocabulary import LabelVocabulary
    from sdl_keras.run_config import RunConfig
    from sdl_keras.run_directory import SavedRun
    from sdl_keras.tabular_task import TabularTask, yeast_splits
    from sdl_keras.tasks import TASKS, Task, register_task

    @register_task("toy_yeast")
    def toy_yeast(config):
        train, validation, test = yeast_splits()
        vocabulary = LabelVocabulary([f"class {j}" for j in range(train.y.shape[1])])
        pipeline = TabularTask.build(train.x)
        return Task("toy yeast", train, validation, test, vocabulary, pipeline)

    try:
        config = RunConfig(
            task="toy_yeast", pretrain_epochs=1, classifier_epochs=2, reference=False
        )
        train_run(config, tmp_path / "run", verbose=0)
    finally:
        TASKS.pop("toy_yeast")
    run = SavedRun.load(tmp_path / "run")
    assert run.label_names[0] == "class 0" and run.pipeline.kind == "tabular"


def test_python_route_example(tmp_path):
    from tests.conftest import run_example

    data = write_jsonl(tmp_path / "notes.jsonl", hpo_rows(300))
    run = tmp_path / "run"
    done = run_example(
        "own_text_file", str(data), "--output-dir", str(run),
        "--pretrain-epochs", "1", "--classifier-epochs", "3",
    )  # fmt: skip
    assert "linear share of the blend" in done.stdout
    from sdl_keras.run_directory import SavedRun

    assert SavedRun.load(run).pipeline.kind == "text"
