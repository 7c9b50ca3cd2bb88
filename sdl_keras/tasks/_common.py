"""What the built-in tasks share: pipelines from a run's options, splits."""

from __future__ import annotations

import dataclasses

import numpy as np

from sdl_keras.image_task import ImageTask
from sdl_keras.run_config import ConfigError, RunConfig
from sdl_keras.tabular_task import TabularTask
from sdl_keras.text_task import TextTask
from sdl_keras.two_stage import Split


def text_pipeline(texts, config: RunConfig) -> TextTask:
    task = TextTask.build(
        list(texts),
        encoder=config.encoder or "bow",
        tokenizer=config.tokenizer,
        vocabulary_size=config.vocabulary_size,
        max_length=config.max_length,
        batch_size=config.batch_size,
    )
    return dataclasses.replace(task, num_views=config.num_views)


def image_pipeline(config: RunConfig, channels: int = 3, flip: bool = True):
    return ImageTask(
        (config.image_size, config.image_size),
        channels=channels,
        encoder=config.encoder or "small_cnn",
        batch_size=config.batch_size,
        flip=flip,
        num_views=config.num_views,
    )


def tabular_pipeline(features, config: RunConfig, names=None) -> TabularTask:
    if config.encoder not in (None, "mlp"):
        raise ConfigError(f"Tabular tasks take `encoder` mlp; got {config.encoder!r}.")
    return TabularTask.build(features, names, batch_size=config.batch_size)


def limited(split: Split, limit: int | None) -> Split:
    return split if limit is None else Split(split.x[:limit], split.y[:limit])


def stratified_parts(
    labels: np.ndarray, fractions: list[float], seed: int
) -> list[np.ndarray]:
    """Indices of parts of the given fractions (the first part takes the
    rest), multi-label stratified (iterative stratification) and seeded."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    remaining = np.arange(len(labels))
    parts = []
    left = 1.0
    for fraction in fractions[1:]:
        splitter = MultilabelStratifiedShuffleSplit(
            n_splits=1, test_size=fraction / left, random_state=seed
        )
        kept, held = next(splitter.split(remaining, labels[remaining]))
        parts.append(remaining[held])
        remaining = remaining[kept]
        left -= fraction
    return [remaining, *parts]


def take(values, index: np.ndarray):
    """`values[index]` for arrays and lists alike."""
    if isinstance(values, np.ndarray):
        return values[index]
    return [values[i] for i in index]
