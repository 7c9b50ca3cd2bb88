"""A user's own files as tasks: `text`, `images` and `tabular`."""

from __future__ import annotations

import warnings

import numpy as np

from sdl_keras.data.files import Examples, FileFields, read_examples
from sdl_keras.data.label_vocabulary import LabelVocabulary
from sdl_keras.run_config import ConfigError, RunConfig
from sdl_keras.tasks import Task, TaskBuilder, register_task
from sdl_keras.tasks._common import (
    image_pipeline,
    stratified_parts,
    tabular_pipeline,
    take,
    text_pipeline,
)
from sdl_keras.two_stage import Split

# Held out of the training file for each part that has no file of its own.
HELD_OUT = 0.1


def file_fields(config: RunConfig) -> FileFields:
    """Where a run's files keep their inputs and labels."""
    return FileFields(
        text=config.text_field,
        image=config.image_field,
        labels=config.labels_field,
        separator=config.label_separator,
        label_count=config.label_count,
    )


def read_split_files(config: RunConfig, kind: str) -> tuple[list, list[str]]:
    """The examples of the train/validation/test files (None for a part
    without a file) and notes on what was read."""
    if not config.train_file:
        raise ConfigError(f"--task {config.task} needs --train-file.")
    read: list[Examples | None] = []
    notes: list[str] = []
    names = None
    for part, path in (
        ("train", config.train_file),
        ("validation", config.validation_file),
        ("test", config.test_file),
    ):
        if path is None:
            read.append(None)
            continue
        examples = read_examples(
            path, kind, file_fields(config), config.skip_bad_rows, True, names
        )
        names = names or examples.feature_names
        read.append(examples)
        notes.append(
            f"{part}: {len(examples)} examples from {path}"
            + (f", {examples.unlabelled} unlabelled" if examples.unlabelled else "")
        )
        if examples.skipped:
            lines = ", ".join(str(line) for line, _ in examples.skipped[:20])
            more = "" if len(examples.skipped) <= 20 else ", ..."
            notes.append(
                f"{part}: skipped {len(examples.skipped)} bad rows of {path} "
                f"(lines {lines}{more}); first: {examples.skipped[0][1]}"
            )
    return read, notes


def labelled_task(
    name: str,
    parts: list[Examples | None],
    notes: list[str],
    config: RunConfig,
    make_pipeline,
) -> Task:
    """Splits (holding parts out of train where no file gives them), the
    label vocabulary of the training labels, and the pipeline."""
    train = parts[0]
    if train is None:
        raise ConfigError("A training file is required.")
    vocabulary = LabelVocabulary.from_label_sets(train.labels)
    if not len(vocabulary):
        raise ConfigError(f"{train.path}: no example has a label.")
    inputs = {"train": train.inputs}
    labels = {"train": vocabulary.encode(train.labels)}
    for part, examples in zip(("validation", "test"), parts[1:], strict=True):
        if examples is None:
            continue
        inputs[part] = examples.inputs
        labels[part] = known_labels(part, examples, vocabulary, notes)
    missing = [part for part in ("validation", "test") if part not in inputs]
    if missing:
        fractions = [1.0 - HELD_OUT * len(missing)] + [HELD_OUT] * len(missing)
        indices = stratified_parts(labels["train"], fractions, config.seed)
        source_inputs, source_labels = inputs["train"], labels["train"]
        for part, index in zip(["train", *missing], indices, strict=True):
            inputs[part] = take(source_inputs, index)
            labels[part] = source_labels[index]
        sizes = ", ".join(f"{len(labels[p])} {p}" for p in ["train", *missing])
        notes.append(
            f"held out of {train.path} (stratified by labels, seed "
            f"{config.seed}): {sizes}"
        )
    if config.limit:
        inputs["train"] = inputs["train"][: config.limit]
        labels["train"] = labels["train"][: config.limit]
    splits = {part: Split(inputs[part], labels[part]) for part in inputs}
    counts = splits["train"].y.sum(0).astype(int).tolist()
    vocabulary = LabelVocabulary(vocabulary.codes, counts)
    return Task(
        name,
        splits["train"],
        splits["validation"],
        splits["test"],
        vocabulary,
        make_pipeline(splits["train"]),
        notes,
    )


def known_labels(
    part: str, examples: Examples, vocabulary: LabelVocabulary, notes: list[str]
) -> np.ndarray:
    """The multi-hot labels of `examples` in the training columns; labels
    never seen in training are counted, warned about, noted and left out."""
    unseen = sorted(
        {label for labels in examples.labels for label in labels}
        - set(vocabulary.codes)
    )
    if unseen:
        rows = sum(any(lab not in vocabulary for lab in s) for s in examples.labels)
        message = (
            f"{examples.path}: {len(unseen)} labels never seen in training "
            f"(in {rows} {part} rows) are left out of the metrics: "
            f"{unseen[:10]}{' ...' if len(unseen) > 10 else ''}"
        )
        warnings.warn(message, stacklevel=3)
        notes.append(message)
    return vocabulary.encode(examples.labels, unknown="ignore")


def _file_task(kind: str, make_pipeline) -> TaskBuilder:
    """The builder of a task read from the files a run names."""

    def build(config: RunConfig) -> Task:
        parts, notes = read_split_files(config, kind)
        name = f"{kind} ({parts[0].path.name})"
        names = parts[0].feature_names
        return labelled_task(
            name,
            parts,
            notes,
            config,
            lambda train: make_pipeline(train, config, names),
        )

    return build


# Texts, image paths (relative to the file) or feature vectors, with labels,
# from JSONL, CSV or TSV files (ARFF too for feature vectors).
register_task("text")(_file_task("text", lambda t, c, _: text_pipeline(t.x, c)))
register_task("images")(_file_task("images", lambda t, c, _: image_pipeline(c)))
register_task("tabular")(
    _file_task("tabular", lambda t, c, names: tabular_pipeline(t.x, c, names))
)
