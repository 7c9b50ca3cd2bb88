"""The interface every modality implements: from inputs to model-ready data.

A task (`sdl_keras.tasks`) is labelled splits plus one `InputPipeline`: text
(`TextTask`), images (`ImageTask`) or feature vectors (`TabularTask`). The
pipeline holds what was fitted on the training inputs (a vocabulary, feature
statistics) and saves it into a run directory, so that a finished run reads
new inputs exactly as it read its training data, with no training data.
"""

from __future__ import annotations

import abc
import json
from pathlib import Path
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from sdl_keras._files import write_json
from sdl_keras.two_stage import PRETRAIN_STEPS

PIPELINE_FILE = "pipeline.json"


class InputPipeline(abc.ABC):
    """Builds the encoder and the datasets of one modality.

    Subclasses set `kind` and implement the abstract methods; `save` and
    `InputPipeline.load` round-trip them through a directory. A subclass
    whose encoder needs more contrastive steps than the default raises
    `pretrain_steps` (see `sdl_keras.two_stage.pretrain_epochs`).
    """

    kind: ClassVar[str]
    pretrain_steps: ClassVar[int] = PRETRAIN_STEPS
    registry: ClassVar[dict[str, type[InputPipeline]]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            InputPipeline.registry[cls.kind] = cls

    @abc.abstractmethod
    def make_encoder(self) -> keras.Model:
        """A fresh encoder: inputs → features `[B, F]`."""

    @abc.abstractmethod
    def make_dataset(self, split, purpose: str, seed: int) -> tf.data.Dataset:
        """`(inputs, labels)` batches of a split; `purpose` is `"pretrain"`
        (inputs `[B, V, ...]` with V views), `"train"` (shuffled) or
        `"evaluate"` (in order)."""

    def run_arguments(self) -> dict[str, Any]:
        """What `sdl_keras.two_stage.train_two_stage` takes to build and feed
        the models."""
        return {
            "make_encoder": self.make_encoder,
            "make_dataset": self.make_dataset,
            "pretrain_steps": self.pretrain_steps,
        }

    @abc.abstractmethod
    def serving_preprocessor(self):
        """The raw-input preprocessor of an export, or None where there is
        no raw form to serve."""

    def linear_features(self) -> keras.Model | None:
        """A model from the encoder's inputs to the plain features a linear
        model is fitted on (`sdl_keras.linear_blend`), or None."""
        return None

    @abc.abstractmethod
    def reference_features(self, train, *splits) -> list:
        """Plain feature matrices of `train` and `splits` for the classical
        reference models (fitted on `train` only)."""

    @abc.abstractmethod
    def state(self, directory: Path) -> dict:
        """What `from_state` needs (JSON); large parts go into files in
        `directory`."""

    @classmethod
    @abc.abstractmethod
    def from_state(cls, state: dict, directory: Path) -> InputPipeline:
        """The pipeline `state` describes."""

    def save(self, directory: str | Path) -> None:
        """Writes the pipeline into `directory` (`pipeline.json` and files)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_json(
            directory / PIPELINE_FILE, {"kind": self.kind, **self.state(directory)}
        )

    @staticmethod
    def load(directory: str | Path) -> InputPipeline:
        """The pipeline saved in `directory`."""
        path = Path(directory) / PIPELINE_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: not a saved input pipeline.")
        try:
            state = json.loads(path.read_text("utf-8"))
            kind = state.pop("kind")
            cls = InputPipeline.registry[kind]
        except (ValueError, KeyError, AttributeError, TypeError) as error:
            raise ValueError(
                f"{path} is not a saved input pipeline: {error!r}."
            ) from None
        return cls.from_state(state, Path(directory))

    def inputs_dataset(self, inputs) -> tf.data.Dataset:
        """Model inputs of raw `inputs` (no labels), in order, for predict."""
        return self.make_dataset(_Unlabelled(inputs), "evaluate", 0).map(lambda x, _: x)


class _Unlabelled:
    """A split whose labels are placeholders (inputs to predict)."""

    def __init__(self, inputs) -> None:
        self.x = inputs
        self.y = np.zeros((len(inputs), 1), "float32")
