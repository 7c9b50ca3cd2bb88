"""Every code block and command of the README and the docs pages, run as
written; what a test machine cannot have (your data, a GPU cluster, a
running TensorFlow Serving) is filled in by `tests/docs_stand_ins.py`, and
the few edits that make a command small enough to run here are listed in
`EDITS`. Then the documentation site is built strictly.

A block may be preceded by an HTML comment (invisible when rendered):
`<!-- docs-test: stand-ins NAME ... -->` or `<!-- docs-test: skip REASON -->`.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests import docs_stand_ins

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent

# Exact text of a block → what runs instead: smaller schedules and data, a
# fixture's directory for a download, the in-process server for a remote one.
# A study's commands on 300 examples with a short schedule.
QUICK = "--limit 300 --pretrain-epochs 1 --classifier-epochs 2"
EDITS = {
    "python benchmarks/bench_long_documents.py": "python "
    "benchmarks/bench_long_documents.py --quick",
    "python benchmarks/bench_c_search.py": "python benchmarks/bench_c_search.py "
    "--tasks yeast",
    "--tasks reuters --seeds 0 1 2 --output-dir results/recipe_c1024": "--tasks "
    "yeast --seeds 0 --output-dir results/recipe_c1024",
    "--tasks newsgroups --seeds 0 1 2 --output-dir results/recipe_c1024": "--tasks "
    "yeast --seeds 0 --output-dir results/recipe_c1024",
    "--seeds 0 1 2 3 4 5 6 7 8 9 --output-dir results/recipe_c1024": "--seeds 0 "
    "--output-dir results/recipe_c1024",
    "--tasks hpo --seeds 0 1 2 3 4 5 6 7 --output-dir results/recipe_c1024": "--tasks "
    "yeast --seeds 0 --output-dir results/recipe_c1024",
    '--tasks "hpo level 2" --seeds 0 1 2 3 4 5 --output-dir results/recipe_c1024': (
        "--tasks yeast --seeds 0 --output-dir results/recipe_c1024"
    ),
    '--tasks "emoji scenes" --seeds 0 1 2 3 --output-dir results/recipe_bands': (
        "--tasks yeast --seeds 0 --output-dir results/recipe_bands"
    ),
    # The thresholds pooled over bands: the Yeast run the lines above leave.
    'threshold_rules.py --tasks yeast reuters hpo newsgroups "hpo level 2" '
    "--runs-dir results/recipe_c1024": "threshold_rules.py --tasks yeast "
    "--runs-dir results/recipe_c1024",
    "epochs=100": "epochs=1",
    "epochs=200": "epochs=2",
    '"/data/mimic-iii"': "MIMIC_DIR",
    '"/data/coco"': "COCO_DIR",
    'weights="resnet50_notop.h5"': "weights=None",
    "prediction_service_pb2_grpc.PredictionServiceStub(": "LocalStub(",
    'grpc.insecure_channel("localhost:8500")': '"exports/hpo"',
    "--output-dir runs/hpo_sdl": "--output-dir runs/hpo_sdl --limit 400",
    "--train-file notes.jsonl --output-dir runs/notes": "--train-file notes.jsonl "
    "--pretrain-epochs 1 --classifier-epochs 2 --output-dir runs/notes",
    "compare --profile cpu": "compare --profile ci",
    "--output-dir results/encoders/": "--seeds 0 --output-dir results/encoders/",
    "default_recipe.py --report": "default_recipe.py --tasks yeast --seeds 0 --report",
    '--tasks "fashion scenes" --pretrain-epochs 20': "--tasks yeast --seeds 0 "
    "--pretrain-epochs 1",
    '--tasks "fashion scenes" scenes': "--tasks yeast --seeds 0",
    '--tasks scenes "fashion scenes" --seeds 0 1 --output-dir results/recipe_pool': (
        "--tasks yeast --seeds 0 --output-dir results/recipe_pool"
    ),
    '--tasks "emoji scenes" "8×8 digit scenes"': "--tasks yeast --seeds 0",
    '--tasks "emoji scenes" --seeds 0 1 2 3 --output-dir results/recipe_pool': (
        "--tasks yeast --seeds 0 --output-dir results/recipe_pool"
    ),
    '--tasks scenes "fashion scenes" "8×8 digit scenes" --seeds 0 1 2 3 '
    "--pretrain-epochs 39": ("--tasks yeast --seeds 0 --pretrain-epochs 1"),
    'threshold_rules.py --tasks yeast "hpo level 2" scenes "fashion scenes" '
    '"8×8 digit scenes" "emoji scenes"': "threshold_rules.py --tasks yeast",
    "--tasks hpo newsgroups reuters --seeds 0 1 2": "--tasks yeast --seeds 0",
    '--tasks scenes "fashion scenes" "emoji scenes" --seeds 0 1 2 3 4 5': "--tasks "
    "yeast --seeds 0",
    '--tasks "hpo level 3" --seeds 0 1': "--tasks yeast --seeds 0",
    '--tasks scenes "fashion scenes" --seeds 6 7 8 9': "--tasks yeast --seeds 0",
    'threshold_rules.py --tasks yeast reuters hpo newsgroups "hpo level 2" scenes '
    '"fashion scenes" "8×8 digit scenes" "emoji scenes"': "threshold_rules.py "
    "--tasks yeast",
    'neighbour_blend.py --tasks yeast reuters hpo newsgroups "hpo level 2" '
    '"hpo level 3" "8×8 digit scenes" "fashion scenes" scenes "emoji scenes"': (
        "neighbour_blend.py --tasks yeast"
    ),
    "--task newsgroups --output-dir runs/newsgroups": "--task newsgroups "
    "--limit 300 --pretrain-epochs 1 --classifier-epochs 2 --output-dir "
    "runs/newsgroups",
    "verdict_noise.py --seeds 2 3 4 6 10": "verdict_noise.py --seeds 3 --trials "
    "50 --resamples 200",
    "--seeds 0 1 2 3 4 5 6 7 8 9 --output-dir results/recipe_seeds": "--seeds 0 "
    "--output-dir results/recipe_seeds",
    "neighbour_spaces.py --task scenes --objects fashion --seed 0": "neighbour_"
    "spaces.py --task scenes --objects digits --limit 300 --pretrain-epochs 1 "
    "--classifier-epochs 2",
    "neighbour_spaces.py --task hpo --seed 0": "neighbour_spaces.py --task hpo "
    "--limit 300 --pretrain-epochs 1 --classifier-epochs 2",
    'neighbour_blend.py --tasks "fashion scenes" --sdl-runs sdl_encoder_lr0.1': (
        "neighbour_blend.py --tasks yeast --runs-dir results/recipe_seeds "
        "--sdl-runs sdl_encoder_lr0.1"
    ),
    'neighbour_blend.py --tasks "fashion scenes" --seeds 0': "neighbour_blend.py "
    "--tasks yeast --seeds 0",
    '--tasks "fashion scenes" --seeds 0 --encoder-learning-rate-multiplier 0.1': (
        "--tasks yeast --seeds 0 --encoder-learning-rate-multiplier 0.1"
    ),
    'default_recipe.py --tasks hpo scenes "fashion scenes" "8×8 digit scenes" '
    "--seeds 0 1 2 --classification-weight 1": "default_recipe.py --tasks yeast "
    "--seeds 0 --classification-weight 1",
    '--tasks "emoji scenes" --seeds 0 1 2 3 4 5 --classification-weight 1': (
        "--tasks yeast --seeds 0 --classification-weight 1"
    ),
    'neighbour_blend.py --tasks hpo scenes "fashion scenes" "8×8 digit scenes" '
    "--seeds 0 1 2": "neighbour_blend.py --tasks yeast --seeds 0",
    'neighbour_blend.py --tasks hpo scenes "fashion scenes" "8×8 digit scenes" '
    '"emoji scenes" --sdl-runs sdl_joint1': (
        "neighbour_blend.py --tasks yeast --runs-dir results/recipe_seeds "
        "--sdl-runs sdl_joint1"
    ),
    "--tasks hpo --seeds 0 1 2 --pretrain-epochs 10": "--tasks yeast --seeds 0 "
    "--pretrain-epochs 1",
    "--tasks newsgroups --seeds 0 1 2 --pretrain-epochs 13": "--tasks yeast "
    "--seeds 0 --pretrain-epochs 2",
    "--tasks scenes --seeds 0 1 2 3 --pretrain-epochs 40": "--tasks yeast "
    "--seeds 0 --pretrain-epochs 3",
    "--tasks hpo --sdl-runs sdl_pretrain10": "--tasks yeast --sdl-runs sdl_pretrain1",
    "--tasks newsgroups --sdl-runs sdl_pretrain13": "--tasks yeast --sdl-runs "
    "sdl_pretrain2",
    "--tasks scenes --sdl-runs sdl_pretrain40": "--tasks yeast --sdl-runs "
    "sdl_pretrain3",
    "--objects emoji --limit 2000": "--objects digits --limit 300 "
    "--pretrain-epochs 1 --classifier-epochs 2",
    "--objects emoji --limit 5600": "--objects digits --limit 300 "
    "--pretrain-epochs 1 --classifier-epochs 2",
    "pretraining_probe.py --objects fashion": "pretraining_probe.py --objects "
    "digits --limit 300 --epochs 2 --every 1",
    "pretraining_probe.py --objects mnist": "pretraining_probe.py --objects "
    "digits --limit 300 --epochs 2 --every 1",
    "--tasks hpo newsgroups --seeds 0 1 2 --drop-rate 0.5": "--tasks yeast --seeds 0 "
    "--drop-rate 0.5",
    "--tasks hpo --seeds 0 1 2 --drop-rate 0": "--tasks yeast --seeds 0 --drop-rate 0",
    "threshold_rules.py --tasks hpo newsgroups --runs-dir results/recipe_views": (
        "threshold_rules.py --tasks yeast --runs-dir results/recipe_views"
    ),
    "--tasks hpo --runs-dir results/recipe_views --sdl-runs sdl_drop0 ": "--tasks "
    "yeast --runs-dir results/recipe_views --sdl-runs sdl_drop0 ",
    "--tasks yeast --seeds 0 1 2 3 4 5 6 7 8 9 --drop-rate": "--tasks yeast --seeds 0 "
    "--drop-rate",
    "--seeds 0 1 2 3 4 5 6 7 8 9 --pretrain-epochs 100 --output-dir results/"
    "recipe_views": "--seeds 0 --pretrain-epochs 2 --output-dir results/recipe_views",
    "--tasks yeast --seeds 0 1 2 3 4 5 6 7 8 9 --output-dir results/recipe_views": (
        "--tasks yeast --seeds 0 --output-dir results/recipe_views"
    ),
    "--task hpo --output-dir runs/cluster": "--task hpo --output-dir runs/cluster "
    "--limit 300 --pretrain-epochs 1 --classifier-epochs 2 --no-reference "
    "--no-linear-blend",
    '--tasks "8×8 digit scenes" --seeds 0 1 2 3 4 5 6 7 8 9 --output-dir '
    "results/digits10": "--tasks yeast --seeds 0 --output-dir results/digits10",
    '--tasks "emoji scenes" --seeds 0 1 2 3 4 5 6 7 --output-dir results/recipe_pool': (
        "--tasks yeast --seeds 0 --output-dir results/recipe_pool"
    ),
    # --hidden-layers is for text: HPO on 300 documents, one pre-training epoch.
    "--tasks hpo newsgroups --seeds 0 1 2 --hidden-layers 2": "--tasks hpo --seeds 0 "
    "--hidden-layers 2 --limit 300 --pretrain-epochs 1",
    "threshold_rules.py --tasks hpo newsgroups --runs-dir results/recipe_depth "
    "--sdl-runs sdl_depth2 --none-runs none_depth2": "threshold_rules.py --tasks hpo "
    "--runs-dir results/recipe_depth --sdl-runs sdl_pretrain1_limit300_depth2 "
    "--none-runs none_limit300_depth2",
    # --plateau-decay: 300 HPO documents, Yeast and 300 8×8 digit scenes.
    '--tasks hpo newsgroups "hpo level 2" --seeds 0 1 2 --plateau-decay 0.5': "--tasks "
    "hpo --seeds 0 --plateau-decay 0.5 --limit 300 --pretrain-epochs 1",
    "--tasks yeast --seeds 0 1 2 3 4 5 6 7 8 9 --plateau-decay": (
        "--tasks yeast --seeds 0 --plateau-decay"
    ),
    '--tasks scenes "fashion scenes" --seeds 0 1 2 3 --plateau-decay 0.5': "--tasks "
    '"8×8 digit scenes" --seeds 0 --plateau-decay 0.5 --limit 300 --pretrain-epochs 1',
    'threshold_rules.py --tasks hpo newsgroups "hpo level 2" --runs-dir results/'
    "recipe_views --sdl-runs sdl_decay0.5 --none-runs none_decay0.5": "threshold_rules"
    ".py --tasks hpo --runs-dir results/recipe_views --sdl-runs "
    "sdl_pretrain1_limit300_decay0.5 --none-runs none_limit300_decay0.5",
    # --prior-bias: 300 HPO documents (the second command reads them back),
    # and 300 Yeast genes for the runs with room to finish.
    '--tasks "hpo level 2" --seeds 0 1 2 --prior-bias': "--tasks hpo --seeds 0 "
    "--prior-bias --limit 300 --pretrain-epochs 1",
    '--tasks reuters "hpo level 3" --seeds 0 1 --prior-bias': "--tasks hpo --seeds 0 "
    "--prior-bias --limit 300 --pretrain-epochs 1",
    "--task hpo --level 3 --classifier-epochs 100": "--task yeast --limit 300 "
    "--pretrain-epochs 1 --classifier-epochs 3",
    '--tasks "hpo level 3" --seeds 0 1 --classifier-epochs 100': "--tasks yeast "
    "--seeds 0 --classifier-epochs 3 --limit 300 --pretrain-epochs 1",
    # HPO level 2's constant-rate networks: Yeast's default runs instead.
    '--tasks "hpo level 2" --seeds 0 1 2 --output-dir results/recipe_views': (
        "--tasks yeast --seeds 0 --output-dir results/recipe_views"
    ),
    'threshold_rules.py --tasks "hpo level 2" --runs-dir results/recipe_views '
    "--network-alone": "threshold_rules.py --tasks yeast --runs-dir results/"
    "recipe_views --network-alone",
    # τ and the queue: 300 Yeast genes, short schedules; the text and scene
    # commands read them back, but for one run of 300 8×8 digit scenes.
    "--tasks yeast --seeds 0 1 2 3 4 --output-dir results/recipe_tau": "--tasks yeast "
    f"--seeds 0 {QUICK} --output-dir results/recipe_tau",
    "--seeds 0 1 2 3 4 --temperature": f"--seeds 0 {QUICK} --temperature",
    "--tasks yeast --seeds 0 1 2 3 4 5 6 7 8 9 --output-dir results/recipe_tau": (
        f"--tasks yeast --seeds 0 {QUICK} --output-dir results/recipe_tau"
    ),
    "--seeds 0 1 2 3 4 5 6 7 8 9 --queue-size": f"--seeds 0 {QUICK} --queue-size",
    "--tasks hpo newsgroups --output-dir results/recipe_tau": "--tasks yeast --seeds 0 "
    f"{QUICK} --output-dir results/recipe_tau",
    '--tasks hpo newsgroups "hpo level 2" --queue-size 1024 --output-dir results/'
    "recipe_tau": f"--tasks yeast --seeds 0 {QUICK} --queue-size 1024 "
    "--output-dir results/recipe_tau",
    '--tasks "fashion scenes" --seeds 0 1 2 --output-dir results/recipe_tau': (
        f"--tasks yeast --seeds 0 {QUICK} --output-dir results/recipe_tau"
    ),
    '--tasks "fashion scenes" --seeds 0 1 2 --queue-size 1024': '--tasks "8×8 digit '
    f'scenes" --seeds 0 {QUICK} --queue-size 1024',
    '--tasks "fashion scenes" --seeds 0 1 --output-dir results/recipe_tau': (
        f"--tasks yeast --seeds 0 {QUICK} --output-dir results/recipe_tau"
    ),
    '--tasks "fashion scenes" --seeds 0 1 --queue-size 1024 --queue-momentum 0.99': (
        f"--tasks yeast --seeds 0 {QUICK} --queue-size 1024 --queue-momentum 0.99"
    ),
    'threshold_rules.py --tasks hpo newsgroups "hpo level 2" --runs-dir results/'
    "recipe_tau --sdl-runs sdl_queue1024": "threshold_rules.py --tasks yeast "
    "--runs-dir results/recipe_tau --sdl-runs sdl_pretrain1_queue1024_limit300_epochs2 "
    "--none-runs none_limit300_epochs2",
    # HPO over eight seeds, the neighbours reference, the embedding's size:
    # the Yeast runs above read back, one short run per embedding size.
    "--tasks hpo --seeds 0 1 2 3 4 5 6 7 --output-dir": (
        f"--tasks yeast --seeds 0 {QUICK} --output-dir"
    ),
    '--tasks "hpo level 2" --seeds 0 1 2 3 4 5 --output-dir': (
        f"--tasks yeast --seeds 0 {QUICK} --output-dir"
    ),
    "--tasks newsgroups --seeds 0 1 --output-dir": (
        f"--tasks yeast --seeds 0 {QUICK} --output-dir"
    ),
    "--seeds 0 1 2 3 4 5 6 7 8 9 --projection-dim": (
        f"--seeds 0 {QUICK} --projection-dim"
    ),
    "--tasks hpo --seeds 0 1 2 --projection-dim 32": "--tasks yeast --seeds 0 "
    f"{QUICK} --projection-dim 32",
    '--tasks "fashion scenes" --seeds 0 1 2 --projection-dim 32': "--tasks yeast "
    f"--seeds 0 {QUICK} --projection-dim 32",
    '--tasks hpo "hpo level 2" --runs-dir results/recipe_tau --network-alone '
    "--seeds 0 1 2 3 4 5 6 7": (
        "--tasks yeast --runs-dir results/recipe_tau --sdl-runs "
        "sdl_pretrain1_limit300_epochs2 --none-runs none_limit300_epochs2 "
        "--network-alone --seeds 0"
    ),
}
SKIPS_ALLOWED = 2


@dataclasses.dataclass(frozen=True)
class Block:
    path: Path
    line: int
    language: str
    text: str
    note: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def stand_ins(self) -> list[str]:
        found = re.match(r"stand-ins (.*)", self.note)
        return found.group(1).split() if found else []

    @property
    def skip_reason(self) -> str | None:
        found = re.match(r"skip (.*)", self.note)
        return found.group(1) if found else None

    def edited(self) -> str:
        text = self.text
        for old, new in EDITS.items():
            text = text.replace(old, new)
        return text


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with the docs-test note of the
    HTML comment right above each."""
    found = []
    lines = path.read_text("utf-8").split("\n")
    index = 0
    while index < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[index])
        if not fence:
            index += 1
            continue
        end = lines.index("```", index + 1)
        above = lines[index - 1] if index else ""
        note = re.match(r"<!-- docs-test: (.*) -->", above)
        found.append(
            Block(
                path,
                index + 1,
                fence.group(1),
                "\n".join(lines[index + 1 : end]) + "\n",
                note.group(1) if note else "",
            )
        )
        index = end + 1
    return found


ALL_BLOCKS = [block for path in DOCUMENTS for block in blocks(path)]


def test_every_block_is_run_or_says_why_not():
    languages = {block.language for block in ALL_BLOCKS}
    assert languages <= {"python", "bash", "json", "jsonl"}, languages
    skipped = [block for block in ALL_BLOCKS if block.skip_reason is not None]
    assert len(skipped) <= SKIPS_ALLOWED, [block.name for block in skipped]
    assert all(len(block.skip_reason.split()) >= 4 for block in skipped)
    for block in ALL_BLOCKS:
        for name in block.stand_ins:
            assert callable(getattr(docs_stand_ins, name, None)), block.name
    # Every edit still matches something, so none outlives its block.
    text = "".join(block.text for block in ALL_BLOCKS)
    assert [old for old in EDITS if old not in text] == []


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory):
    """One working directory per document: its blocks run in order there,
    so a command sees the files the previous one wrote."""
    found = {path: tmp_path_factory.mktemp(path.stem) for path in DOCUMENTS}
    for directory in found.values():
        # Commands name the repository's scripts as a checkout has them.
        for scripts in ("examples", "benchmarks"):
            (directory / scripts).symlink_to(ROOT / scripts)
    return found


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda block: block.name)
def test_block(block: Block, workspaces):
    if block.skip_reason is not None:
        pytest.skip(block.skip_reason)
    directory = workspaces[block.path]
    if block.language == "python":
        _run_python(block, directory)
    elif block.language == "bash":
        for name in block.stand_ins:
            getattr(docs_stand_ins, name)(directory)
        background: list = []
        for command in _commands(block.edited()):
            if command == "wait":
                for started in background:
                    _finish(started, block)
                background = []
            else:
                background += _run_command(command, directory, block)
        assert not background, f"{block.name}: `&` without `wait`"
    elif block.language == "jsonl":
        for line in block.text.splitlines():
            json.loads(line)
    else:
        json.loads(block.text)


def _run_python(block: Block, directory: Path) -> None:
    prelude = [
        "from pathlib import Path",
        *(
            f"from tests.docs_stand_ins import {name}\n"
            f"globals().update({name}(Path.cwd()))"
            for name in block.stand_ins
        ),
    ]
    script = directory / f"block_{block.line}.py"
    script.write_text("\n".join(prelude) + "\n" + block.edited(), "utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=directory,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, (
        f"{block.name}\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
    )


def _commands(text: str) -> list[str]:
    """Command lines, continuations joined, comments dropped."""
    joined = text.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        command = line.split(" #")[0].strip()
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def _run_command(command: str, directory: Path, block: Block) -> list:
    """Runs `command`; one ending in `&` is started and returned, for
    `wait` to finish."""
    in_background = command.endswith("&")
    words = shlex.split(command.removesuffix("&"))
    environment = _environment()
    if words[0] == "env":
        # `env NAME=VALUE ... PROGRAM ARGUMENTS`
        while "=" in words[1]:
            name, value = words[1].split("=", 1)
            environment[name] = value
            words = [words[0], *words[2:]]
        words = words[1:]
    if words[0] == "make":
        # The Makefile's targets are CI itself; here: that they exist and
        # what they would run.
        words, directory = ["make", "-n", *words[1:]], ROOT
    if words[:2] == ["pip", "install"]:
        _check_installed(words[2:], block)
        return []
    program = shutil.which(words[0], path=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    assert program, f"{block.name}: {words[0]} is not installed"
    process = subprocess.Popen(
        [program, *words[1:]],
        cwd=directory,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = Started(process, command, directory, words)
    if in_background:
        return [started]
    _finish(started, block)
    return []


@dataclasses.dataclass(frozen=True)
class Started:
    process: subprocess.Popen
    command: str
    directory: Path
    words: list[str]


def _finish(started: Started, block: Block) -> None:
    """Waits for a command and checks it succeeded and wrote its outputs."""
    _, errors = started.process.communicate(timeout=1200)
    message = f"{block.name}: {started.command}\n{errors[-4000:]}"
    assert started.process.returncode == 0, message
    for flag, value in itertools.pairwise(started.words):
        if flag in ("--output", "--output-dir", "--report"):
            assert (started.directory / value).exists(), (
                f"{block.name}: {started.command} wrote no {value}"
            )


def _check_installed(arguments: list[str], block: Block) -> None:
    """What `pip install ARGUMENTS` installs is installed here, in versions
    its requirements allow (this environment was made by the same extras)."""
    for argument in arguments:
        if argument.startswith("-"):
            continue
        # A checkout installs itself as `.[extras]`.
        requirement = Requirement(re.sub(r"^\.(?=\[|$)", "sdl-keras", argument))
        distribution = importlib.metadata.distribution(requirement.name)
        wanted = [Requirement(text) for text in distribution.requires or []]
        for extra in requirement.extras:
            assert extra in distribution.metadata.get_all("Provides-Extra"), extra
            for dependency in wanted:
                if dependency.marker and dependency.marker.evaluate({"extra": extra}):
                    version = importlib.metadata.version(dependency.name)
                    assert dependency.specifier.contains(version, prereleases=True), (
                        f"{block.name}: {dependency} but {version} installed"
                    )


def _environment() -> dict:
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


def test_public_api_is_documented():
    """Every name the API page and the packages' `__all__` show has a
    docstring: mkdocstrings renders an empty entry silently."""
    import importlib

    page = (ROOT / "docs" / "api.md").read_text("utf-8")
    shown = re.findall(r"^::: ([\w.]+)", page, re.MULTILINE)
    for target in shown:
        module_name, _, attribute = target.rpartition(".")
        try:
            objects = [importlib.import_module(target)]
        except ModuleNotFoundError:
            objects = [getattr(importlib.import_module(module_name), attribute)]
        for found in objects:
            assert (found.__doc__ or "").strip(), target
    for package in ("losses", "models", "metrics", "encoders", "export", "tasks"):
        module = importlib.import_module(f"sdl_keras.{package}")
        for name in module.__all__:
            value = getattr(module, name)
            if callable(value):
                assert (value.__doc__ or "").strip(), f"sdl_keras.{package}.{name}"


def test_documentation_site_builds_strictly(tmp_path):
    done = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env={**_environment(), "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert (tmp_path / "api" / "index.html").is_file()
