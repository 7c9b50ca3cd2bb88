"""The offline tasks of the command line, ready for `train_two_stage`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from sdl_keras.cli.config import ConfigError, RunConfig
from sdl_keras.two_stage import Split


@dataclasses.dataclass
class TaskData:
    """A task's splits, label names and model pieces.

    Attributes:
        name: task name.
        train, validation, test: the splits.
        label_names: in column order.
        run_arguments: `make_encoder` and `make_dataset` or
            `make_augmentation`, as `train_two_stage` takes them.
        serving_preprocessor: builds the preprocessor of an export (None for
            tabular data, which has no raw form to serve).
        features: turns a split into plain feature vectors for the
            non-contrastive reference rows (TF-IDF, pixels, the features).
    """

    name: str
    train: Split
    validation: Split
    test: Split
    label_names: list[str]
    run_arguments: dict
    serving_preprocessor: Callable | None
    features: Callable[[Split], np.ndarray]


def load_task(config: RunConfig) -> TaskData:
    """The task of `config`, split the same way on every call."""
    if config.task == "yeast":
        return _yeast(config)
    if config.task == "hpo":
        return _hpo(config)
    return _scenes(config)


def check_loss_fits_task(loss: str, task: TaskData) -> None:
    """Refuses, before any training, a loss the task's labels cannot take."""
    if loss == "supcon" and task.train.y.sum(axis=1).max() > 1:
        raise ConfigError(
            f"`loss` supcon is single-label, but samples of the {task.name} task "
            "carry several labels; use sdl, any, all, jaccard or mulsupcon."
        )


def _limited(split: Split, limit: int | None) -> Split:
    return split if limit is None else Split(split.x[:limit], split.y[:limit])


def _yeast(config: RunConfig) -> TaskData:
    from sdl_keras.datasets.yeast import load_yeast
    from sdl_keras.tabular_task import TabularTask, yeast_splits

    train, validation, test = yeast_splits()
    train = _limited(train, config.limit)
    task = TabularTask(train.x.shape[1])
    return TaskData(
        "yeast",
        train,
        validation,
        test,
        list(load_yeast()[2]),
        {
            "make_encoder": task.make_encoder,
            "make_augmentation": task.make_augmentation,
        },
        None,
        lambda split: np.asarray(split.x),
    )


def _hpo(config: RunConfig) -> TaskData:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from sdl_keras.datasets.hpo import load_hpo, split_hpo
    from sdl_keras.text_task import TextTask

    texts, labels, vocabulary = load_hpo(config.level)
    if config.limit:
        texts, labels = texts[: config.limit], labels[: config.limit]
    documents = np.asarray(texts, dtype=object)
    train, validation, test = (
        Split(documents[index], labels[index]) for index in split_hpo(labels, seed=0)
    )
    task = TextTask.build(
        list(train.x), max_length=config.max_length, batch_size=config.batch_size
    )
    tfidf = TfidfVectorizer(max_features=20000, sublinear_tf=True).fit(train.x)
    return TaskData(
        f"hpo level {config.level}",
        train,
        validation,
        test,
        _readable(vocabulary),
        {"make_encoder": task.make_encoder, "make_dataset": task.make_dataset},
        task.serving_preprocessor,
        lambda split: tfidf.transform(split.x),
    )


def _scenes(config: RunConfig) -> TaskData:
    from sdl_keras.datasets import scenes
    from sdl_keras.image_task import ImageTask

    canvas = 48
    layout = scenes.SceneConfig(canvas=canvas, grid=2, max_objects=3, jitter=3)
    num_train = config.limit or 4000
    (x_train, y_train), (x_test, y_test) = scenes.load_scenes(
        "mnist", num_train, max(num_train // 4, 10), layout
    )
    held = len(x_train) // 10
    task = ImageTask(
        (canvas, canvas), channels=1, batch_size=config.batch_size, flip=False
    )
    return TaskData(
        "scenes",
        Split(x_train[held:], y_train[held:]),
        Split(x_train[:held], y_train[:held]),
        Split(x_test, y_test),
        [str(digit) for digit in range(10)],
        {"make_encoder": task.make_encoder, "make_dataset": task.make_dataset},
        task.serving_preprocessor,
        lambda split: np.asarray(split.x, "float32").reshape(len(split.x), -1) / 255,
    )


def _readable(vocabulary) -> list[str]:
    """Label names for people: the term names where they are unique."""
    names = vocabulary.names or vocabulary.codes
    return names if len(set(names)) == len(names) else vocabulary.codes
