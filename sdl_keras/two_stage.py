"""The field's protocol: contrastive pre-training, then a classifier, evaluated.

One seed of one loss is one call of `run_two_stage`; the seed fixes the
encoder's initial weights, the shuffling and the augmentations, so calls that
differ only in `loss` are paired.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from scipy import sparse

from sdl_keras.data.label_batches import (
    batch_examples,
    label_dataset,
    large_label_form,
    to_large_label_form,
)
from sdl_keras.distributed import fit_distributed, is_chief
from sdl_keras.losses import LOSSES, WeightedSupConLoss
from sdl_keras.metrics import (
    ThresholdChoice,
    best_threshold,
    choose_thresholds,
    f1,
    mean_average_precision,
    multilabel_report,
)
from sdl_keras.models import ContrastiveModel, MultiLabelClassifier, ProjectionHead
from sdl_keras.run_config import RunConfig

# The default schedules: at least so many epochs and at least so many steps
# (see `pretrain_epochs` and `classifier_epochs`). Five epochs of 3,240
# scenes are 130 steps, in which the image encoders' contrastive loss barely
# moves; 500 steps turned SDL's tie with BCE only into a win on
# Fashion-MNIST scenes (docs/results.md). A pipeline may ask for more
# (`InputPipeline.pretrain_steps`).
PRETRAIN_EPOCHS = 5
PRETRAIN_STEPS = 500
CLASSIFIER_EPOCHS = 30
CLASSIFIER_STEPS = 3000


@dataclasses.dataclass(frozen=True)
class Split:
    """Inputs and multi-hot labels of one part of a dataset.

    Attributes:
        x: the inputs: an array (vectors, pixels), or a sequence of texts or
            image paths.
        y: multi-hot labels `[N, L]`.
    """

    x: Any
    y: np.ndarray

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(
                f"A split needs as many inputs as label rows; got {len(self.x)} "
                f"and {len(self.y)}."
            )


@dataclasses.dataclass
class TrainedModels:
    """What `train_two_stage` produced.

    Attributes:
        classifier: the classifier, thresholds tuned on validation data.
        pretrainer: the contrastive model (sharing the classifier's encoder),
            or None without pre-training.
        pretrain_history: `History.history` of pre-training (empty without).
        classifier_history: `History.history` of the classifier.
        pretrain_seconds: time spent pre-training.
        seconds: time spent in both stages and threshold tuning.
    """

    classifier: MultiLabelClassifier
    pretrainer: ContrastiveModel | None
    pretrain_history: dict
    classifier_history: dict
    pretrain_seconds: float
    seconds: float


@dataclasses.dataclass
class Pretrained:
    """What `pretrain` produced.

    Attributes:
        encoder: the encoder, pre-trained or fresh, in this process's scope.
        pretrainer: the contrastive model, or None without pre-training.
        history: `History.history` of pre-training (empty without).
        seconds: time spent pre-training.
    """

    encoder: keras.Model
    pretrainer: ContrastiveModel | None
    history: dict
    seconds: float


def pretrain(
    make_encoder: Callable[[], keras.Model],
    train: Split,
    config: RunConfig,
    seed: int,
    make_augmentation: Callable[[], keras.layers.Layer] | None = None,
    make_dataset: Callable[[Split, str, int], tf.data.Dataset] | None = None,
    verbose: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    strategy: tf.distribute.Strategy | None = None,
    pretrain_steps: int = PRETRAIN_STEPS,
) -> Pretrained:
    """The first stage of `train_two_stage` (arguments as there).

    Under `MultiWorkerMirroredStrategy` every worker calls it with the same
    arguments: the contrastive model trains across workers with
    `sdl_keras.distributed.fit_distributed` (each worker takes its share of
    every global batch of `config.batch_size`), and each returns a copy of the
    encoder outside the strategy for what follows."""
    if config.pretrains and (make_augmentation is None) == (make_dataset is None):
        raise ValueError(
            "Pre-training needs exactly one way to make views: "
            "`make_augmentation` or `make_dataset`."
        )
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(seed)
    if not config.pretrains:
        # Nothing to share across workers: the encoder stays in this process.
        return Pretrained(make_encoder(), None, {}, 0.0)
    strategy = strategy or tf.distribute.get_strategy()
    across_workers = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    started = time.perf_counter()
    with strategy.scope():
        encoder = make_encoder()
    num_labels = train.y.shape[1]
    with strategy.scope():
        pretrainer = ContrastiveModel(
            encoder,
            ProjectionHead(config.projection_dim),
            num_views=config.num_views,
            augmentation=None if make_augmentation is None else make_augmentation(),
            num_labels=num_labels,
            classification_weight=config.classification_weight,
            queue_size=config.queue_size,
            momentum=config.queue_momentum,
            max_labels=max(1, int(np.max(train.y.sum(axis=1), initial=0))),
        )
        pretrainer.compile(
            optimizer=_optimizer(config),
            loss=(
                LOSSES[config.loss](temperature=config.temperature)
                if config.loss in LOSSES
                else WeightedSupConLoss(config.loss, config.temperature)
            ),
        )
    large = large_label_form(num_labels)
    if not across_workers:
        if make_dataset is not None:
            data = {"x": make_dataset(train, "pretrain", seed), "shuffle": False}
        else:
            # Keras batches a SciPy matrix into the large-label form.
            labels = sparse.csr_matrix(train.y) if large else train.y
            data = {"x": train.x, "y": labels, "batch_size": config.batch_size}
        history = pretrainer.fit(
            **data,
            epochs=pretrain_epochs(config, len(train.y), pretrain_steps),
            verbose=verbose,
            callbacks=list(callbacks),
        ).history
        return Pretrained(encoder, pretrainer, history, time.perf_counter() - started)
    if make_dataset is not None:
        dataset = make_dataset(train, "pretrain", seed)
    else:
        dataset = batch_examples(
            tf.data.Dataset.zip(
                tf.data.Dataset.from_tensor_slices(np.asarray(train.x)),
                label_dataset(train.y, large),
            ).shuffle(len(train.y), seed=seed),
            config.batch_size,
            large,
        )
        if large:
            dataset = to_large_label_form(dataset, num_labels)
    chief = is_chief(strategy)
    history = fit_distributed(
        pretrainer,
        dataset,
        pretrain_epochs(config, len(train.y), pretrain_steps),
        int(dataset.cardinality()),
        callbacks=list(callbacks) if chief else [],
        verbose=verbose if chief else 0,
    ).history
    # The classifier trains in this process alone: the encoder leaves the
    # strategy.
    local_encoder = make_encoder()
    local_encoder.set_weights(encoder.get_weights())
    return Pretrained(local_encoder, pretrainer, history, time.perf_counter() - started)


def train_two_stage(
    make_encoder: Callable[[], keras.Model],
    train: Split,
    validation: Split,
    config: RunConfig,
    seed: int | None = None,
    make_augmentation: Callable[[], keras.layers.Layer] | None = None,
    make_dataset: Callable[[Split, str, int], tf.data.Dataset] | None = None,
    verbose: int = 0,
    pretrain_callbacks: Sequence[keras.callbacks.Callback] = (),
    classifier_callbacks: Sequence[keras.callbacks.Callback] = (),
    strategy: tf.distribute.Strategy | None = None,
    pretrain_steps: int = PRETRAIN_STEPS,
) -> TrainedModels:
    """Pre-trains (unless `config.loss` is `"none"`), trains the classifier
    keeping its best epoch on validation data, and tunes its thresholds there.

    Args:
        make_encoder: builds a fresh encoder (called after seeding).
        train: the training data.
        validation: the data that choose the epoch and the thresholds.
        config: the run's options (`sdl_keras.run_config.RunConfig`); its
            task options are not read here.
        seed: fixes initial weights, shuffling and views; default
            `config.seed`.
        make_augmentation: builds a layer that makes one view of a batch of
            `train.x` (the model then makes `config.num_views` views).
        make_dataset: instead, `(split, purpose, seed) -> tf.data.Dataset`
            of batches for a purpose: `"pretrain"` (inputs `[B, V, ...]` with
            the views), `"train"` and `"evaluate"` (single views; not
            shuffled for evaluate).
        verbose: Keras verbosity.
        pretrain_callbacks: added to pre-training's `fit` (e.g. TensorBoard).
        classifier_callbacks: added to the classifier's `fit`.
        strategy: the strategy pre-training runs under (see `pretrain`); the
            classifier trains in this process alone.
        pretrain_steps: the fewest pre-training steps when
            `config.pretrain_epochs` is unset (see `pretrain_epochs`).
    """
    seed = config.seed if seed is None else seed
    started = time.perf_counter()
    pretrained = pretrain(
        make_encoder,
        train,
        config,
        seed,
        make_augmentation,
        make_dataset,
        verbose,
        pretrain_callbacks,
        strategy,
        pretrain_steps,
    )
    encoder, pretrainer = pretrained.encoder, pretrained.pretrainer
    pretrain_history, pretrain_seconds = pretrained.history, pretrained.seconds

    def data(split: Split, purpose: str) -> dict:
        if make_dataset is None:
            return {"x": split.x, "y": split.y, "batch_size": config.batch_size}
        return {"x": make_dataset(split, purpose, seed), "shuffle": False}

    num_labels = train.y.shape[1]
    classifier = MultiLabelClassifier(
        encoder,
        num_labels,
        mode=config.mode,
        encoder_learning_rate_multiplier=config.encoder_learning_rate_multiplier,
    )
    if config.prior_bias:
        classifier.start_from_label_frequencies(np.asarray(train.y.mean(axis=0)))
    classifier.compile(optimizer=_optimizer(config))
    validation_inputs = evaluation_inputs(validation, make_dataset, seed)
    stopping = [
        ValidationScore(validation_inputs, validation.y, config.monitor),
        keras.callbacks.EarlyStopping(
            monitor=f"val_{config.monitor}",
            mode="min" if config.monitor == "loss" else "max",
            patience=config.patience,
            restore_best_weights=True,
        ),
    ]
    if config.plateau_decay < 1:
        stopping.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=f"val_{config.monitor}",
                mode="min" if config.monitor == "loss" else "max",
                factor=config.plateau_decay,
                patience=1,
                verbose=0,
            )
        )
    history = classifier.fit(
        **data(train, "train"),
        validation_data=(
            (validation.x, validation.y) if make_dataset is None else validation_inputs
        ),
        epochs=classifier_epochs(config, len(train.y)),
        callbacks=[*stopping, *classifier_callbacks],
        verbose=verbose,
    )
    classifier.tune_thresholds(
        validation_inputs, validation.y, per_label=config.per_label_thresholds
    )
    return TrainedModels(
        classifier,
        pretrainer,
        pretrain_history,
        history.history,
        pretrain_seconds,
        time.perf_counter() - started,
    )


def pretrain_epochs(
    config: RunConfig, num_examples: int, steps: int = PRETRAIN_STEPS
) -> int:
    """Contrastive pre-training epochs: `config.pretrain_epochs` where set,
    else 5 or as many as make `steps` steps of `config.batch_size` over
    `num_examples`, whichever is more.

    >>> pretrain_epochs(RunConfig(), 20_000)
    5
    >>> pretrain_epochs(RunConfig(), 3_240)
    20
    >>> pretrain_epochs(RunConfig(), 3_240, steps=1_000)
    39
    >>> pretrain_epochs(RunConfig(pretrain_epochs=0), 3_240)
    0
    """
    return _epochs(config.pretrain_epochs, PRETRAIN_EPOCHS, steps, config, num_examples)


def classifier_epochs(config: RunConfig, num_examples: int) -> int:
    """The classifier's most epochs: `config.classifier_epochs` where set,
    else 30 or as many as make `CLASSIFIER_STEPS` steps of
    `config.batch_size` over `num_examples`, whichever is more.

    >>> classifier_epochs(RunConfig(), 20_000)
    30
    >>> classifier_epochs(RunConfig(), 2_900)
    131
    >>> classifier_epochs(RunConfig(classifier_epochs=5), 2_900)
    5
    """
    return _epochs(
        config.classifier_epochs,
        CLASSIFIER_EPOCHS,
        CLASSIFIER_STEPS,
        config,
        num_examples,
    )


def _epochs(
    chosen: int | None, epochs: int, steps: int, config: RunConfig, num_examples: int
) -> int:
    if chosen is not None:
        return chosen
    steps_per_epoch = math.ceil(num_examples / config.batch_size)
    return max(epochs, math.ceil(steps / steps_per_epoch))


class ValidationScore(keras.callbacks.Callback):
    """Logs `val_map` or `val_micro_f1` of the classifier after each epoch,
    for early stopping on a ranking or decision score rather than on the
    validation loss, which the frequent labels dominate.

    Args:
        inputs: validation inputs (an array or an evaluation dataset).
        labels: their multi-hot labels.
        metric: `"map"`, `"micro_f1"` (at the best global threshold) or
            `"loss"` (Keras logs `val_loss` itself: nothing to add).
    """

    def __init__(self, inputs, labels: np.ndarray, metric: str) -> None:
        super().__init__()
        self.inputs = inputs
        self.labels = np.asarray(labels)
        self.metric = metric

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.metric == "loss" or logs is None:
            return
        scores = self.model.predict(self.inputs, verbose=0)
        if self.metric == "map":
            logs["val_map"] = mean_average_precision(self.labels, scores)
        else:
            threshold = best_threshold(self.labels, scores)
            logs["val_micro_f1"] = f1(self.labels, scores >= threshold, "micro")


def run_two_stage(
    make_encoder: Callable[[], keras.Model],
    train: Split,
    validation: Split,
    test: Split,
    config: RunConfig,
    seed: int | None = None,
    make_augmentation: Callable[[], keras.layers.Layer] | None = None,
    make_dataset: Callable[[Split, str, int], tf.data.Dataset] | None = None,
    verbose: int = 0,
    pretrain_steps: int = PRETRAIN_STEPS,
) -> dict:
    """`train_two_stage`, then a report on `test` (arguments as there).

    Returns:
        A dictionary: `"at_0.5"` and `"tuned"` reports (see
        `sdl_keras.metrics.multilabel_report`, with frequency bands from the
        training labels), epochs run and seconds taken.
    """
    trained = train_two_stage(
        make_encoder,
        train,
        validation,
        config,
        seed,
        make_augmentation,
        make_dataset,
        verbose,
        pretrain_steps=pretrain_steps,
    )
    report = classifier_report(
        trained.classifier, train.y.sum(axis=0), test, make_dataset
    )
    return report | {
        "classifier_epochs_run": len(trained.classifier_history["loss"]),
        "pretrain_seconds": trained.pretrain_seconds,
        "seconds": trained.seconds,
    }


def classifier_report(
    classifier: MultiLabelClassifier,
    train_counts: np.ndarray,
    test: Split,
    make_dataset: Callable[[Split, str, int], tf.data.Dataset] | None = None,
    seed: int = 0,
) -> dict:
    """`"at_0.5"` and `"tuned"` (the classifier's stored thresholds) reports
    on `test`, with frequency bands from the labels' training counts, and
    `"thresholds"`, how they were chosen, when the classifier tuned them in
    this process."""
    scores = classifier.predict(evaluation_inputs(test, make_dataset, seed), verbose=0)
    thresholds = keras.ops.convert_to_numpy(classifier.thresholds)
    return _reports(train_counts, test, scores, thresholds, classifier.threshold_choice)


def evaluation_inputs(
    split: Split,
    make_dataset: Callable[[Split, str, int], tf.data.Dataset] | None,
    seed: int,
):
    """A split's inputs for `predict`: the array, or its evaluation dataset."""
    return split.x if make_dataset is None else make_dataset(split, "evaluate", seed)


def compare(
    losses: Sequence[str | None],
    seeds: Sequence[int],
    config: RunConfig,
    log: Callable[[str], None] = print,
    **run_arguments,
) -> dict[str, list[dict]]:
    """`run_two_stage` for every loss (`None`: BCE only) and seed, paired:
    the same seeds, hence initial encoders and shuffles, for every loss.

    Returns:
        loss name (`"none"` for BCE only) → one report per seed.
    """
    results: dict[str, list[dict]] = {}
    for loss in losses:
        name = loss or "none"
        results[name] = []
        for seed in seeds:
            report = run_two_stage(
                config=dataclasses.replace(config, loss=loss or "none"),
                seed=seed,
                **run_arguments,
            )
            results[name].append(report)
            tuned = report["tuned"]
            log(
                f"{name:>9} seed {seed}: micro-F1 {tuned['micro_f1']:.4f} "
                f"macro-F1 {tuned['macro_f1']:.4f} mAP {tuned['map']:.4f} "
                f"({report['seconds']:.0f} s)"
            )
    return results


def label_prior_baseline(train: Split, validation: Split, test: Split) -> dict:
    """Every sample scored with the labels' training frequencies; the
    threshold is tuned on validation data like the classifiers'."""
    prior = train.y.mean(axis=0)
    return scores_report(
        train,
        validation,
        test,
        np.broadcast_to(prior, validation.y.shape),
        np.broadcast_to(prior, test.y.shape),
    )


def scores_report(
    train: Split,
    validation: Split,
    test: Split,
    validation_scores: np.ndarray,
    test_scores: np.ndarray,
    per_label: bool | None = False,
) -> dict:
    """The reports of `run_two_stage` for any scorer (a reference model):
    thresholds tuned on the validation scores, bands from training labels."""
    choice = choose_thresholds(validation.y, validation_scores, per_label)
    thresholds = np.broadcast_to(choice.thresholds, (train.y.shape[1],))
    return _reports(train.y.sum(axis=0), test, test_scores, thresholds, choice)


def _reports(
    train_counts, test: Split, scores, thresholds, choice: ThresholdChoice | None
) -> dict:
    reports = {
        "at_0.5": multilabel_report(test.y, scores, 0.5, train_counts),
        "tuned": multilabel_report(test.y, scores, thresholds, train_counts),
    }
    return reports if choice is None else reports | {"thresholds": choice.summary()}


def _optimizer(config: RunConfig) -> keras.optimizers.Optimizer:
    return keras.optimizers.AdamW(config.learning_rate, config.weight_decay)
