"""The paper's datasets from a local download: `mimic3`, `mimic4`, `coco`."""

from __future__ import annotations

import numpy as np

from sdl_keras.run_config import ConfigError, RunConfig
from sdl_keras.tasks import Task, register_task
from sdl_keras.tasks._common import image_pipeline, limited, text_pipeline
from sdl_keras.two_stage import Split


def _data_dir(config: RunConfig) -> str:
    if not config.data_dir:
        raise ConfigError(f"--task {config.task} needs --data-dir (your download).")
    return config.data_dir


def _mimic_task(config: RunConfig, data) -> Task:
    train, validation, test = (
        Split(np.asarray(data.texts[part], dtype=object), data.labels[part])
        for part in ("train", "dev", "test")
    )
    train = limited(train, config.limit)
    notes = [
        f"{part}: {len(data.texts[part])} admissions"
        + (
            f" ({data.missing[part]} listed without note or code)"
            if data.missing[part]
            else ""
        )
        for part in ("train", "dev", "test")
    ]
    return Task(
        f"{config.task}-{config.codes}",
        train,
        validation,
        test,
        data.vocabulary,
        text_pipeline(train.x, config),
        notes,
    )


@register_task("mimic3")
def mimic3(config: RunConfig) -> Task:
    """MIMIC-III discharge summaries → ICD-9 codes (CAML splits when found)."""
    from sdl_keras.datasets.mimic import load_mimic_iii

    data = load_mimic_iii(_data_dir(config), config.codes, seed=config.seed)
    return _mimic_task(config, data)


@register_task("mimic4")
def mimic4(config: RunConfig) -> Task:
    """MIMIC-IV (v2.2) discharge notes → ICD-10 codes."""
    from sdl_keras.datasets.mimic import load_mimic_iv

    data = load_mimic_iv(
        _data_dir(config), icd_version=10, codes=config.codes, seed=config.seed
    )
    return _mimic_task(config, data)


@register_task("coco")
def coco(config: RunConfig) -> Task:
    """MS-COCO 2017, 80 object classes; val2017 is the test set and a tenth
    of train2017 (seeded) the validation set."""
    from sdl_keras.datasets.coco import load_coco, load_coco_tfds

    if config.tfds_dir:
        import tensorflow as tf

        parts = {}
        for split in ("train", "val"):
            dataset, vocabulary = load_coco_tfds(config.tfds_dir, split)
            pixels, labels = [], []
            for image, present in dataset.take(config.limit or -1):
                pixels.append(tf.io.encode_jpeg(image).numpy())
                labels.append(present.numpy())
            parts[split] = (np.asarray(pixels, dtype=object), np.stack(labels))
    else:
        parts = {}
        for split in ("train", "val"):
            loaded = load_coco(_data_dir(config), split)
            vocabulary = loaded.vocabulary
            parts[split] = (np.asarray(loaded.paths), loaded.labels)
    x, y = parts["train"]
    if config.limit:
        x, y = x[: config.limit], y[: config.limit]
    order = np.random.default_rng(config.seed).permutation(len(x))
    held = max(len(x) // 10, 1)
    return Task(
        "coco 2017",
        Split(list(x[order[held:]]), y[order[held:]]),
        Split(list(x[order[:held]]), y[order[:held]]),
        Split(list(parts["val"][0]), parts["val"][1]),
        vocabulary,
        image_pipeline(config),
    )
