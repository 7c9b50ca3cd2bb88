"""Training across machines: a loop around a model's own `train_step` under a
`tf.distribute` strategy, with progress, callbacks and a backup to resume from.

Keras 3's `fit` does not run under `MultiWorkerMirroredStrategy`
(keras-team/keras#20585); `fit_distributed` is the loop that does: each worker
runs the same program with its `TF_CONFIG`, reads its share of every global
batch, and `strategy.run` calls the model's `train_step` (for
`ContrastiveModel`: the contrast with the batch gathered from every worker,
and the queue). Gradients are summed across workers by the optimizer.

The backup holds the model's and optimizer's variables and the step count;
a restarted job (every worker started again) restores it and continues at the
step after it, skipping the batches of that epoch already trained, so it ends
where an uninterrupted run ends.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import tensorflow as tf


def cluster_strategy() -> tf.distribute.Strategy:
    """`MultiWorkerMirroredStrategy` when `TF_CONFIG` names a cluster of
    several tasks, else the default strategy (one process)."""
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    if len(cluster.get("worker", [])) + len(cluster.get("chief", [])) > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Whether this process writes shared outputs: the `chief` task, else
    worker 0, else the only process."""
    resolver = getattr(
        strategy or tf.distribute.get_strategy(), "cluster_resolver", None
    )
    if resolver is None or resolver.task_type is None:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return not has_chief and resolver.task_type == "worker" and resolver.task_id == 0


def fit_distributed(
    model: keras.Model,
    dataset: tf.data.Dataset | Callable[[tf.distribute.InputContext], tf.data.Dataset],
    epochs: int,
    steps_per_epoch: int,
    backup_dir: str | Path | None = None,
    backup_every: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 1,
) -> keras.callbacks.History:
    """Trains `model` under the strategy it was built in; every worker calls it.

    Args:
        model: a compiled model built under `strategy.scope()` (e.g.
            `ContrastiveModel`); its `train_step` runs on every replica.
        dataset: a `tf.data.Dataset` of global batches, the same on every
            worker (each takes its share of every batch), or a function
            `(input_context) -> tf.data.Dataset` of this worker's batches of
            `input_context.get_per_replica_batch_size(global)`, sharded by
            `input_context.input_pipeline_id`. Iterated afresh each epoch; a
            dataset that gives the same order each time resumes exactly
            (one reshuffled each iteration gives another order after a
            restart).
        epochs: passes, each of `steps_per_epoch` global steps.
        steps_per_epoch: global steps per epoch (the dataset must hold them).
        backup_dir: where the backup is kept (storage every worker reads, on
            several machines); restored from at the start, deleted at the end.
        backup_every: steps between backups; defaults to once per epoch.
        callbacks: Keras callbacks (epoch and batch hooks, with the logs of
            `train_step`); `model.stop_training` ends training early.
        verbose: 1 shows a progress bar on the chief, 0 nothing.

    Returns:
        A `keras.callbacks.History` of the epochs trained by this call.
    """
    if epochs < 1 or steps_per_epoch < 1:
        raise ValueError(
            "`epochs` and `steps_per_epoch` must be ≥ 1; received "
            f"{epochs} and {steps_per_epoch} (a dataset of unknown length "
            "needs `steps_per_epoch` given)."
        )
    strategy = model.distribute_strategy
    if model.optimizer is None:
        raise ValueError("Compile the model before `fit_distributed`.")
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)
        step = tf.Variable(0, dtype="int64", trainable=False, name="global_step")
    backup = _Backup(model, step, strategy, backup_dir)
    backup.restore()
    every = backup_every or steps_per_epoch

    @tf.function
    def train_step(iterator):
        logs = strategy.run(model.train_step, args=(next(iterator),))
        step.assign_add(1)
        return {
            name: strategy.experimental_local_results(value)[0]
            for name, value in logs.items()
        }

    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history],
        model=model,
        verbose=0,
        epochs=epochs,
        steps=steps_per_epoch,
    )
    chief = is_chief(strategy)
    model.stop_training = False
    callback_list.on_train_begin()
    first_epoch = int(step.numpy()) // steps_per_epoch
    logs: dict = {}
    for epoch in range(first_epoch, epochs):
        done = int(step.numpy()) - epoch * steps_per_epoch
        callback_list.on_epoch_begin(epoch)
        for metric in model.metrics:
            metric.reset_state()
        progress = None
        if verbose and chief:
            print(f"Epoch {epoch + 1}/{epochs}")
            progress = keras.utils.Progbar(steps_per_epoch)
        iterator = iter(
            strategy.experimental_distribute_dataset(dataset)
            if isinstance(dataset, tf.data.Dataset)
            else strategy.distribute_datasets_from_function(dataset)
        )
        for _ in range(done):
            # Batches trained before the backup this run resumed from.
            next(iterator)
        for batch in range(done, steps_per_epoch):
            callback_list.on_train_batch_begin(batch)
            try:
                outputs = train_step(iterator)
            except (StopIteration, tf.errors.OutOfRangeError):
                raise ValueError(
                    f"The dataset ran out after {batch} steps of epoch {epoch + 1}; "
                    f"steps_per_epoch={steps_per_epoch} needs that many global "
                    "batches each epoch."
                ) from None
            logs = {name: float(value) for name, value in outputs.items()}
            callback_list.on_train_batch_end(batch, logs)
            if progress is not None:
                progress.update(batch + 1, list(logs.items()))
            if int(step.numpy()) % every == 0:
                backup.save()
            if model.stop_training:
                break
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    backup.delete()
    return history


class _Backup:
    """The model's, optimizer's and step's variables in a checkpoint that
    every worker writes (collectives run in the save) and only the chief's
    copy is kept of."""

    def __init__(self, model, step, strategy, directory) -> None:
        self.directory = None if directory is None else Path(directory)
        self.chief = is_chief(strategy)
        # Variables by position: every weight of the model (queue and key
        # encoder included) and of its optimizers, whatever Keras tracks.
        optimizers = [model.optimizer, getattr(model, "encoder_optimizer", None)]
        checkpoint = tf.train.Checkpoint(
            weights=list(model.weights),
            optimizer=[
                variable
                for optimizer in optimizers
                if optimizer is not None
                for variable in optimizer.variables
            ],
            step=step,
        )
        if self.directory is None:
            self.manager = None
            return
        target = self.directory
        if not self.chief:
            target = Path(tempfile.mkdtemp(prefix="sdl_keras_backup_"))
        self.manager = tf.train.CheckpointManager(checkpoint, str(target), 1)
        self.checkpoint = checkpoint

    def restore(self) -> None:
        if self.manager is None or self.directory is None:
            return
        latest = tf.train.latest_checkpoint(str(self.directory))
        if latest is not None:
            self.checkpoint.restore(latest).assert_existing_objects_matched()

    def save(self) -> None:
        if self.manager is None:
            return
        self.manager.save()
        if not self.chief:
            # Non-chief copies exist only so that the save's collectives run.
            shutil.rmtree(self.manager.directory, ignore_errors=True)

    def delete(self) -> None:
        if self.manager is not None and self.chief and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
