"""The experiment grid of `sdl-keras compare`: paired seeds, resumable cells."""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sdl_keras._files import write_json
from sdl_keras.cli.config import build
from sdl_keras.metrics import BANDS
from sdl_keras.references import REFERENCES, reference_report
from sdl_keras.reports import markdown_table, mean_cells, paired_cells, report_value
from sdl_keras.run_config import (
    ABLATIONS,
    LOSS_NAMES,
    MULTI_LABEL_LOSSES,
    ConfigError,
    RunConfig,
)
from sdl_keras.tasks import Task, check_loss_fits_task, load_task
from sdl_keras.two_stage import run_two_stage

# The offline tasks of the grid.
TASKS = ("hpo", "yeast", "scenes")
METRICS = ["micro_f1", "macro_f1", "map"]
BAND_METRICS = ["head/macro_f1", "medium/macro_f1", "tail/macro_f1"]


@dataclasses.dataclass(frozen=True)
class GridConfig:
    """What `compare` runs.

    Attributes:
        tasks: task names.
        variants: `none` (BCE only with early stopping) and contrastive loss
            or scheme names, each run at `run["temperature"]`.
        temperatures: extra SDL temperatures (the τ sweep).
        seeds: paired seeds: one split, one initial encoder per seed for
            every variant.
        references: non-contrastive rows: `knn` (label average of the 10
            nearest training samples) and `logreg` (binary relevance).
        run: `RunConfig` options shared by every cell (schedule, ...).
        task_options: per task, `RunConfig` options over `run`.
    """

    tasks: list[str] = dataclasses.field(default_factory=lambda: list(TASKS))
    variants: list[str] = dataclasses.field(
        default_factory=lambda: [*MULTI_LABEL_LOSSES, *ABLATIONS]
    )
    temperatures: list[float] = dataclasses.field(
        default_factory=lambda: [0.05, 0.07, 0.2, 0.5]
    )
    seeds: list[int] = dataclasses.field(default_factory=lambda: list(range(8)))
    references: list[str] = dataclasses.field(default_factory=lambda: list(REFERENCES))
    run: dict = dataclasses.field(default_factory=dict)
    task_options: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, allowed, values in (
            ("tasks", TASKS, self.tasks),
            ("variants", LOSS_NAMES, self.variants),
            ("references", REFERENCES, self.references),
        ):
            unknown = [value for value in values if value not in allowed]
            if unknown:
                raise ConfigError(f"Unknown {name} {unknown}; known: {list(allowed)}.")
        if not self.seeds:
            raise ConfigError("`seeds` must list at least one seed.")
        if "sdl" not in self.variants:
            raise ConfigError("The grid compares against SDL: list `sdl` in variants.")
        for task in self.tasks:
            self.run_config(task, "sdl", self.seeds[0])  # validates the options

    def run_config(self, task: str, loss: str, seed: int, **extra) -> RunConfig:
        options = {**self.run, **self.task_options.get(task, {}), **extra}
        return build(RunConfig, {**options, "task": task, "loss": loss, "seed": seed})

    def cells(self) -> list[tuple[str, str, dict]]:
        """(variant label, loss, extra options) for every variant."""
        base = self.run_config(self.tasks[0], "sdl", 0).temperature
        found: list[tuple[str, str, dict]] = [
            (name, name, {}) for name in self.variants
        ]
        found += [
            (f"sdl τ={t}", "sdl", {"temperature": t})
            for t in self.temperatures
            if t != base
        ]
        return found


PROFILES: dict[str, dict] = {
    # Every row on every offline task, 8 seeds, the default schedules.
    "full": {},
    # Every row on every task, 8 seeds, short schedules, HPO and scenes
    # subsampled: under an hour on two CPU cores.
    # (The CNN text encoder and early stopping on the validation loss are
    # the settings docs/results.md was measured with.)
    "cpu": {
        "run": {
            "pretrain_epochs": 3,
            "classifier_epochs": 20,
            "patience": 3,
            "monitor": "loss",
        },
        "task_options": {
            "hpo": {"limit": 2000, "encoder": "cnn"},
            "scenes": {"limit": 600},
        },
    },
    # Minutes: the machinery end to end on tiny data.
    "ci": {
        "tasks": ["yeast"],
        "variants": ["none", "sdl"],
        "temperatures": [],
        "seeds": [0, 1],
        "references": ["knn"],
        "run": {"pretrain_epochs": 1, "classifier_epochs": 2, "limit": 200},
    },
}


def run_grid(
    grid: GridConfig, output: Path, log: Callable[[str], None] = print
) -> dict:
    """Runs every missing cell (finished ones are read back), writes
    `results.json` and `results.md`, returns the summary."""
    summary = {}
    for task_name in grid.tasks:
        task = load_task(grid.run_config(task_name, "sdl", grid.seeds[0]))
        cells = grid.cells()
        for _, loss, _ in cells:
            check_loss_fits_task(loss, task)
        total, started = len(cells) * len(grid.seeds), time.perf_counter()
        results: dict[str, list[dict]] = {}
        done = 0
        for label, loss, extra in cells:
            for seed in grid.seeds:
                done += 1
                config = grid.run_config(task_name, loss, seed, **extra)
                path = output / "cells" / task_name / _file_name(label)
                report, ran = _cell(
                    path / f"seed{seed}.json",
                    dataclasses.asdict(config),
                    functools.partial(_run_cell, task, config),
                )
                if ran:
                    log(
                        f"[{task_name} {done}/{total}] {label} seed {seed}: "
                        f"micro-F1 {report['tuned']['micro_f1']:.4f} macro-F1 "
                        f"{report['tuned']['macro_f1']:.4f} "
                        f"({(time.perf_counter() - started) / 60:.1f} min)"
                    )
                results.setdefault(label, []).append(report)
        data_options = dataclasses.asdict(grid.run_config(task_name, "none", 0))
        for reference in grid.references:
            report, _ = _cell(
                output / "cells" / task_name / reference / "reference.json",
                {**data_options, "reference": reference},
                functools.partial(_reference, task, reference),
            )
            results[reference] = [report]
        summary[task_name] = results
    (output / "results.json").write_text(json.dumps(summary, indent=1))
    (output / "results.md").write_text(markdown(summary))
    for task_name, results in summary.items():
        base = grid.run_config(task_name, "sdl", grid.seeds[0]).temperature
        _plot_task(task_name, results, base, output / "plots")
    return summary


def _plot_task(task: str, results: dict, temperature: float, directory: Path) -> None:
    """Band macro-F1 bars (mean over seeds) and SDL's metrics against τ."""
    from sdl_keras.cli import plots

    means = {
        name: {
            "bands": {
                band: {
                    "macro_f1": np.nanmean(
                        [report_value(r, f"{band}/macro_f1") for r in runs]
                    )
                }
                for band in BANDS
            }
        }
        for name, runs in results.items()
    }
    slug = task.replace(" ", "_")
    plots.band_f1(means, directory / f"{slug}_band_f1.png")
    sweep = {
        float(name.split("=")[1]) if "=" in name else temperature: runs
        for name, runs in results.items()
        if name == "sdl" or name.startswith("sdl τ=")
    }
    if len(sweep) > 1:
        plots.temperature_sweep(sweep, METRICS, directory / f"{slug}_temperature.png")


def markdown(summary: dict) -> str:
    """Mean ± std per row, then SDL minus each row, paired by seed, with a
    95% t interval (`paired_interval`) and the seeds SDL wins."""
    sections = []
    keys = METRICS + BAND_METRICS
    paired_keys = [*METRICS, "tail/macro_f1"]
    for task, results in summary.items():
        means = markdown_table(
            ["row", "n", *keys],
            [
                [name, str(len(runs)), *mean_cells(runs, keys)]
                for name, runs in results.items()
            ],
        )
        gaps = markdown_table(
            ["row", *paired_keys],
            [
                [name, *paired_cells(results["sdl"], runs, paired_keys)]
                for name, runs in results.items()
                if name != "sdl" and len(runs) == len(results["sdl"])
            ],
        )
        note = (
            "SDL − row, paired by seed: mean [95% t interval] (seeds SDL is "
            "ahead) and the verdict: win / loss where the interval excludes 0, "
            "else tie"
        )
        sections.append(f"### {task}\n\n{means}\n\n{note}\n\n{gaps}")
    return "\n\n".join(sections) + "\n"


def _run_cell(task: Task, config: RunConfig) -> dict:
    return run_two_stage(
        train=task.train,
        validation=task.validation,
        test=task.test,
        config=config,
        **task.pipeline.run_arguments(),
    )


def _reference(task: Task, name: str) -> dict:
    features = task.pipeline.reference_features(task.train, task.validation, task.test)
    return reference_report(name, task.train, task.validation, task.test, features)


def _file_name(label: str) -> str:
    return label.replace(" τ=", "_tau")


def _cell(path: Path, options: dict, compute: Callable[[], dict]) -> tuple[dict, bool]:
    """A finished cell's report, or a new one (computed and written with its
    options); refuses a finished cell that was run with other options."""
    if path.exists():
        report = json.loads(path.read_text())
        if report.get("options") != options:
            raise ConfigError(
                f"{path} was run with other options ({report.get('options')}); "
                "rerunning would mix two grids: use another --output-dir or "
                "delete that cell."
            )
        return report, False
    report = {**compute(), "options": options}
    write_json(path, report)
    return report, True
