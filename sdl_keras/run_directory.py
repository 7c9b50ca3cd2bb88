"""A finished run as a directory that stands alone.

Everything needed to use the model is in it, so that evaluating, exporting
and predicting read only the run directory and the file they are given:

- `config.json`: the `RunConfig` of the run;
- `classifier.keras`: the classifier, its tuned thresholds among its weights;
- `labels.json`: label codes in column order, names, training counts;
- `pipeline/`: the fitted input pipeline (tokenizer vocabulary and document
  frequencies, image size, feature statistics);
- `history.json`, `metrics.json`, `results.md`, `plots/`, `tensorboard/`:
  the record of the run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sdl_keras._files import write_atomically, write_json
from sdl_keras.data.files import Examples, iter_examples, read_examples
from sdl_keras.data.label_vocabulary import LabelVocabulary
from sdl_keras.input_pipeline import InputPipeline
from sdl_keras.run_config import ConfigError, RunConfig, build
from sdl_keras.tasks.files import file_fields, known_labels
from sdl_keras.two_stage import Split

if TYPE_CHECKING:
    from sdl_keras.models import MultiLabelClassifier

CONFIG_FILE = "config.json"
CLASSIFIER_FILE = "classifier.keras"
LABELS_FILE = "labels.json"
PIPELINE_DIR = "pipeline"


def save_run(
    directory: str | Path,
    config: RunConfig,
    classifier,
    vocabulary: LabelVocabulary,
    label_names: list[str],
    pipeline: InputPipeline,
) -> None:
    """Writes what `SavedRun.load` reads, each file atomically."""
    directory = Path(directory)
    write_json(directory / CONFIG_FILE, dataclasses.asdict(config))
    write_atomically(directory / CLASSIFIER_FILE, classifier.save)
    write_json(
        directory / LABELS_FILE,
        {**vocabulary.get_config(), "display_names": list(label_names)},
    )
    pipeline.save(directory / PIPELINE_DIR)


@dataclasses.dataclass
class SavedRun:
    """A run directory, loaded.

    Attributes:
        directory: where it is.
        config: its options.
        classifier: the trained `MultiLabelClassifier`.
        vocabulary: label codes in column order, with training counts.
        label_names: the names reports and served models use.
        pipeline: reads inputs as the training data were read.
    """

    directory: Path
    config: RunConfig
    classifier: MultiLabelClassifier
    vocabulary: LabelVocabulary
    label_names: list[str]
    pipeline: InputPipeline

    @classmethod
    def load(cls, directory: str | Path) -> SavedRun:
        """Loads a directory written by `sdl-keras train`, with a named error
        for a missing or damaged part."""
        directory = Path(directory)
        for name in (CONFIG_FILE, CLASSIFIER_FILE, LABELS_FILE, PIPELINE_DIR):
            if not (directory / name).exists():
                raise FileNotFoundError(
                    f"{directory / name} not found: give a directory written by "
                    "`sdl-keras train`."
                )
        config = build(
            RunConfig,
            _json_object(directory / CONFIG_FILE),
            str(directory / CONFIG_FILE),
        )
        labels = _json_object(directory / LABELS_FILE)
        try:
            display_names = labels.pop("display_names")
            vocabulary = LabelVocabulary(**labels)
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(
                f"{directory / LABELS_FILE} is not a label file: {error}."
            ) from None
        return cls(
            directory,
            config,
            load_classifier(directory / CLASSIFIER_FILE),
            vocabulary,
            display_names,
            InputPipeline.load(directory / PIPELINE_DIR),
        )

    def labelled_split(self, path: str | Path) -> tuple[Split, list[str]]:
        """A labelled file as a split in this run's label columns, and notes
        (labels never seen in training are counted and left out)."""
        examples = read_examples(
            path,
            self.pipeline.kind,
            file_fields(self.config),
            self.config.skip_bad_rows,
            feature_names=self._feature_names(),
        )
        notes = [f"{len(examples)} examples from {path}"]
        if examples.skipped:
            notes.append(f"skipped {len(examples.skipped)} bad rows")
        labels = known_labels("test", examples, self.vocabulary, notes)
        return Split(examples.inputs, labels), notes

    def input_chunks(self, path: str | Path, chunk_size: int):
        """The examples of an input file (labels optional), in chunks."""
        return iter_examples(
            path,
            self.pipeline.kind,
            file_fields(self.config),
            self.config.skip_bad_rows,
            labels_required=False,
            feature_names=self._feature_names(),
            chunk_size=chunk_size,
        )

    def _feature_names(self) -> list[str] | None:
        names = getattr(self.pipeline, "feature_names", None)
        return None if names is None else list(names)


def load_classifier(path: Path):
    """`keras.saving.load_model` in safe mode, a damaged file named."""
    import keras

    import sdl_keras  # noqa: F401  (registers the package's saved classes)

    try:
        return keras.saving.load_model(path)
    except Exception as error:  # Keras raises many kinds for a damaged file.
        first_line = next(iter(str(error).splitlines()), "")
        raise ConfigError(
            f"{path} cannot be loaded (damaged or incomplete): "
            f"{type(error).__name__}: {first_line}"
        ) from None


def _json_object(path: Path) -> dict:
    try:
        value = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path} is not a valid config file: {error}.") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{path} is not a valid config file: not a JSON object.")
    return value


def scores_rows(
    run: SavedRun, examples: Examples, top_k: int, every_score: bool, embedding: bool
) -> list[dict]:
    """One output row per example: the labels above their thresholds, the
    top-k (or every) score, optionally the embedding."""
    dataset = run.pipeline.inputs_dataset(examples.inputs)
    feature_batches, probability_batches = [], []
    for batch in dataset:
        found, scores = run.classifier.features_and_probabilities(batch)
        feature_batches.append(np.asarray(found))
        probability_batches.append(np.asarray(scores))
    scores = np.concatenate(probability_batches)
    features = np.concatenate(feature_batches)
    thresholds = np.asarray(run.classifier.thresholds)
    names = run.label_names
    rows = []
    for index, line in enumerate(examples.lines):
        row_scores = scores[index]
        above = np.flatnonzero(row_scores >= thresholds)
        order = np.argsort(-row_scores, kind="stable")
        shown = order if every_score else order[:top_k]
        row = {
            "line": line,
            "labels": [names[j] for j in above[np.argsort(-row_scores[above])]],
            "scores": {names[j]: round(float(row_scores[j]), 6) for j in shown},
        }
        if embedding:
            row["embedding"] = [round(float(v), 6) for v in features[index]]
        rows.append(row)
    return rows
