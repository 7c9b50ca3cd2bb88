"""Tasks: labelled splits plus the input pipeline that reads them.

Every task a run can name is an entry of `TASKS`: a function of the run's
`RunConfig` that returns a `Task`. The built-in ones are the offline data
(`hpo`, `yeast`, `scenes`), a user's own files (`text`, `images`,
`tabular`) and the paper's datasets from a local download (`mimic3`,
`mimic4`, `coco`). A new task is one function:

```python
from sdl_keras.tasks import Task, register_task

@register_task("my_task")
def my_task(config):
    ...
    return Task("my task", train, validation, test, vocabulary, pipeline)
```

The command line also finds tasks that installed packages declare under the
`sdl_keras.tasks` entry-point group.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from importlib import metadata

from sdl_keras.data.label_vocabulary import LabelVocabulary
from sdl_keras.input_pipeline import InputPipeline
from sdl_keras.run_config import ConfigError, RunConfig
from sdl_keras.two_stage import Split

ENTRY_POINT_GROUP = "sdl_keras.tasks"


@dataclasses.dataclass
class Task:
    """A task ready for `sdl_keras.two_stage.train_two_stage`.

    Attributes:
        name: for reports.
        train, validation, test: the splits (multi-hot labels).
        vocabulary: the label columns, with training counts.
        pipeline: builds the encoder and datasets; saved with a run.
        notes: what was done to the data (sizes, split, skipped rows,
            labels unseen in training), for the report.
    """

    name: str
    train: Split
    validation: Split
    test: Split
    vocabulary: LabelVocabulary
    pipeline: InputPipeline
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def label_names(self) -> list[str]:
        """Readable names where they are unique, else the codes."""
        names = self.vocabulary.names or self.vocabulary.codes
        return names if len(set(names)) == len(names) else self.vocabulary.codes


TaskBuilder = Callable[[RunConfig], Task]
TASKS: dict[str, TaskBuilder] = {}


def register_task(name: str) -> Callable[[TaskBuilder], TaskBuilder]:
    """Registers a task builder under `name` (a decorator)."""

    def register(builder: TaskBuilder) -> TaskBuilder:
        TASKS[name] = builder
        return builder

    return register


def task_names() -> list[str]:
    """Every registered task, entry-point tasks of installed packages included."""
    _load_entry_points()
    return sorted(TASKS)


def load_task(config: RunConfig) -> Task:
    """The task `config` names, built, with options it cannot take refused."""
    _load_entry_points()
    if config.task not in TASKS:
        raise ConfigError(
            f"`task` must be one of {sorted(TASKS)}; got {config.task!r}."
        )
    task = TASKS[config.task](config)
    check_loss_fits_task(config.loss, task)
    return task


def check_loss_fits_task(loss: str, task: Task) -> None:
    """Refuses, before any training, a loss the task's labels cannot take."""
    if loss == "supcon" and task.train.y.sum(axis=1).max() > 1:
        raise ConfigError(
            f"`loss` supcon is single-label, but samples of the {task.name} task "
            "carry several labels; use sdl, any, all, jaccard or mulsupcon."
        )


def _load_entry_points() -> None:
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in TASKS:
            TASKS[entry.name] = entry.load()


# The built-in tasks register themselves.
from sdl_keras.tasks import builtin, downloads, files  # noqa: E402, F401

__all__ = [
    "TASKS",
    "Task",
    "check_loss_fits_task",
    "load_task",
    "register_task",
    "task_names",
]
