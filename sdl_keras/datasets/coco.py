"""MS-COCO 2017 as 80-label multi-label image classification.

Two routes to the same labels: the `instances_{train,val}2017.json`
annotation files with the image folders of a local COCO download, or a
tensorflow-datasets `coco/2017` that was prepared beforehand (a `data_dir`
holding the built dataset; nothing is ever downloaded here). Category ids
1..90 (with gaps) map to columns 0..79 in id order, names kept.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sdl_keras.data.label_vocabulary import LabelVocabulary

SPLITS = ("train", "val")
_OBTAIN = (
    "Download MS-COCO 2017 from https://cocodataset.org/#download (the "
    "annotations and the {split}2017 images) and pass its directory."
)


@dataclasses.dataclass
class CocoSplit:
    """Image files and multi-hot labels of one split.

    Attributes:
        paths: image file of each example.
        labels: multi-hot float32 `[N, 80]`.
        image_ids: COCO image ids, aligned with `paths`.
        vocabulary: codes are the category ids as strings, names the
            category names, counts the images carrying each.
    """

    paths: list[str]
    labels: np.ndarray
    image_ids: list[int]
    vocabulary: LabelVocabulary


# The fields read from each record of an instances file.
_FIELDS = {
    "images": ("id", "file_name"),
    "annotations": ("image_id", "category_id"),
    "categories": ("id", "name"),
}


def _records(document: dict, key: str, fields: Sequence[str], path: Path) -> list:
    """`document[key]`, checked to be a list of objects that have `fields`."""
    if key not in document:
        raise ValueError(f"{path} has no {key!r}: not a COCO instances file.")
    records = document[key]
    if not isinstance(records, list):
        raise ValueError(f"{path}: {key!r} must be a list.")
    for number, record in enumerate(records):
        missing = [
            field
            for field in fields
            if not isinstance(record, dict) or field not in record
        ]
        if missing:
            raise ValueError(
                f"{path}: {key}[{number}] lacks {missing[0]!r}: not a COCO "
                "instances file."
            )
    return records


def load_coco(
    coco_dir: str | Path, split: str = "train", keep_unlabelled: bool = False
) -> CocoSplit:
    """A split from `coco_dir/annotations/instances_{split}2017.json` and the
    images in `coco_dir/{split}2017/`.

    Args:
        coco_dir: the COCO root.
        split: `"train"` or `"val"`.
        keep_unlabelled: keep images without any object annotation (all-zero
            label rows); left out by default.
    """
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}; received {split!r}.")
    coco_dir = Path(coco_dir)
    annotations = coco_dir / "annotations" / f"instances_{split}2017.json"
    image_dir = coco_dir / f"{split}2017"
    for needed in (annotations, image_dir):
        if not needed.exists():
            raise FileNotFoundError(
                f"{needed} not found. " + _OBTAIN.format(split=split)
            )
    try:
        document = json.loads(annotations.read_text("utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"{annotations} is not UTF-8 text ({error.reason}).") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{annotations} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ValueError(
            f"{annotations} holds a JSON {type(document).__name__}, not an object: "
            "not a COCO instances file."
        )
    records = {
        key: _records(document, key, fields, annotations)
        for key, fields in _FIELDS.items()
    }
    categories = sorted(records["categories"], key=lambda category: category["id"])
    column = {category["id"]: index for index, category in enumerate(categories)}
    present: dict[int, set[int]] = {}
    for number, annotation in enumerate(records["annotations"]):
        category = annotation["category_id"]
        if category not in column:
            raise ValueError(
                f"{annotations}: annotation {number} has category_id {category!r}, "
                "which is not among the categories."
            )
        present.setdefault(annotation["image_id"], set()).add(column[category])
    images = sorted(records["images"], key=lambda image: image["id"])
    if not keep_unlabelled:
        images = [image for image in images if image["id"] in present]
    labels = np.zeros((len(images), len(categories)), "float32")
    for row, image in enumerate(images):
        labels[row, sorted(present.get(image["id"], ()))] = 1.0
    vocabulary = LabelVocabulary(
        [str(category["id"]) for category in categories],
        labels.sum(0).astype(int).tolist(),
        [category["name"] for category in categories],
    )
    paths = [str(image_dir / image["file_name"]) for image in images]
    return CocoSplit(paths, labels, [image["id"] for image in images], vocabulary)


def load_coco_tfds(data_dir: str | Path, split: str = "train"):
    """`(dataset, vocabulary)` from a prepared tensorflow-datasets
    `coco/2017`: a `tf.data.Dataset` of `(uint8 image [H, W, 3], multi-hot
    [80])`, never downloading (a missing build is an error naming
    `data_dir`)."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}; received {split!r}.")
    try:
        dataset, info = tfds.load(
            "coco/2017",
            split=split,
            data_dir=str(data_dir),
            download=False,
            with_info=True,
        )
    except (AssertionError, tfds.core.DatasetNotFoundError, FileNotFoundError):
        raise FileNotFoundError(
            f"coco/2017 is not prepared in {data_dir}. Build it there first "
            "(tfds build coco/2017 --data_dir ... with the COCO files at hand); "
            "this function never downloads."
        ) from None
    names = info.features["objects"]["label"].names
    vocabulary = LabelVocabulary([str(i) for i in range(len(names))], names=names)

    def to_example(example):
        counts = tf.reduce_sum(
            tf.one_hot(example["objects"]["label"], len(names), dtype="float32"),
            axis=0,
        )
        present = tf.minimum(counts, 1.0)  # zeros for an image without objects
        return example["image"], tf.reshape(present, [len(names)])

    return dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE), vocabulary
