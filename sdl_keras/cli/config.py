"""Options of the command line: defaults, a YAML/JSON file, then flags."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import typing
from pathlib import Path

from sdl_keras.losses import LOSSES
from sdl_keras.relations import SCHEMES

TASKS = ("hpo", "yeast", "scenes")
# "none" is BCE only (no pre-training); the rest name a contrastive loss.
# `supcon` is single-label: a task whose samples carry several labels refuses it.
LOSS_NAMES = ("none", *sorted({*LOSSES, *SCHEMES}))


class ConfigError(ValueError):
    """An option that is unknown, of the wrong type or out of range."""


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One training run: a task, a loss, the schedule.

    Attributes:
        task: `hpo` (offline medical text), `yeast` (tabular) or `scenes`
            (composite digit images).
        level: HPO level (1: 23 organ systems, 2: their children).
        limit: use only this many samples of the task (small profiles).
        loss: `none` (BCE only) or a contrastive loss / weight scheme name.
        temperature: τ of the contrastive loss.
        seed: initial weights, shuffling and views.
        pretrain_epochs: contrastive pre-training epochs.
        classifier_epochs: most classifier epochs (early stopping on the
            validation loss picks the best).
        patience: early-stopping patience.
        batch_size: batch size of both stages.
        learning_rate: AdamW learning rate.
        max_length: tokens kept per document (text tasks).
        top_k: labels named per input by the served model.
    """

    task: str = "hpo"
    level: int = 1
    limit: int | None = None
    loss: str = "sdl"
    temperature: float = 0.1
    seed: int = 0
    pretrain_epochs: int = 5
    classifier_epochs: int = 30
    patience: int = 3
    batch_size: int = 128
    learning_rate: float = 2e-3
    max_length: int = 64
    top_k: int = 5

    def __post_init__(self) -> None:
        _check_types(self)
        if self.task not in TASKS:
            raise ConfigError(f"`task` must be one of {TASKS}; got {self.task!r}.")
        if self.loss not in LOSS_NAMES:
            raise ConfigError(f"`loss` must be one of {LOSS_NAMES}; got {self.loss!r}.")
        if self.level not in (1, 2):
            raise ConfigError(f"`level` must be 1 or 2; got {self.level}.")
        if not self.temperature > 0:
            raise ConfigError(f"`temperature` must be > 0; got {self.temperature}.")
        if not self.learning_rate > 0:
            raise ConfigError(f"`learning_rate` must be > 0; got {self.learning_rate}.")
        for name in ("batch_size", "max_length", "top_k", "classifier_epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"`{name}` must be ≥ 1; got {getattr(self, name)}.")
        for name in ("pretrain_epochs", "patience"):
            if getattr(self, name) < 0:
                raise ConfigError(f"`{name}` must be ≥ 0; got {getattr(self, name)}.")
        if self.limit is not None and self.limit < 10:
            raise ConfigError(f"`limit` must be ≥ 10 samples; got {self.limit}.")

    def two_stage_config(self):
        """The `TwoStageConfig` of this run."""
        from sdl_keras.two_stage import TwoStageConfig

        return TwoStageConfig(
            loss=None if self.loss == "none" else self.loss,
            temperature=self.temperature,
            pretrain_epochs=self.pretrain_epochs,
            classifier_epochs=self.classifier_epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            patience=self.patience,
        )


def read_options(path: str | os.PathLike) -> dict:
    """The options of a `.json`, `.yaml` or `.yml` file (a mapping)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Config file not found: {path}.")
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text ({error.reason}).") from None
    if path.suffix == ".json":
        try:
            options = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path}: invalid JSON: {error}.") from None
    elif path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            options = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: invalid YAML: {error}") from None
    else:
        raise ConfigError(f"{path}: a config file must be .json, .yaml or .yml.")
    if not isinstance(options, dict):
        raise ConfigError(f"{path}: the config must be a mapping of option: value.")
    return options


def build(cls: type, options: dict, source: str = "options"):
    """`cls(**options)` for a config dataclass, naming unknown options."""
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(
            f"Unknown option {unknown[0]!r} in {source}; known: {sorted(known)}."
        )
    return cls(**options)


def _check_types(config) -> None:
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        allowed = typing.get_args(hints[field.name]) or (hints[field.name],)
        if typing.get_origin(hints[field.name]) is list:
            allowed = (list,)
        allowed = tuple(t for t in allowed if isinstance(t, type))
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"Option `{field.name}` must be finite; got {value}.")
        if float in allowed and isinstance(value, int) and not isinstance(value, bool):
            continue  # 1 is a fine learning rate
        if isinstance(value, bool) and bool not in allowed:
            ok = False
        else:
            ok = isinstance(value, allowed) or (value is None and type(None) in allowed)
        if not ok:
            expected = " or ".join(t.__name__ for t in allowed)
            raise ConfigError(
                f"Option `{field.name}` must be {expected}; got {value!r}."
            )
