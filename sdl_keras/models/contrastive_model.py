"""Contrastive pre-training: encoder, projection head, views, optional queue."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import tensorflow as tf
from keras import ops

from sdl_keras._checks import checked_training_data
from sdl_keras.losses import SimilarityDissimilarityLoss, WeightedSupConLoss
from sdl_keras.losses.weighted_supcon import masked_anchor_losses, weighted_supcon_loss
from sdl_keras.models._encoders import feature_dim, functional_encoder
from sdl_keras.models.projection_head import ProjectionHead
from sdl_keras.relations import LabelSets, is_sparse, padded_label_indices


@keras.saving.register_keras_serializable(package="sdl_keras")
class ContrastiveModel(keras.Model):
    """An encoder trained with a supervised contrastive loss from `compile`.

    Each training sample is seen through `num_views` views: either the input
    pipeline delivers them (inputs `[B, V, ...]`) or the model makes them by
    applying `augmentation` V times to inputs `[B, ...]`. Every view is encoded,
    projected and L2-normalised; the loss given to `compile` (any loss of
    `sdl_keras.losses`) contrasts each view with all the others. `predict`
    returns the embedding of single-view inputs, `[B, D]`.

    Options:
    - Joint training: with `classification_weight` λ > 0, a linear
      classification head on the encoder features adds λ · binary
      cross-entropy (mean over views and labels) to the contrastive loss.
    - Memory queue (MoCo): with `queue_size` > 0, a momentum copy of encoder
      and head encodes every view as keys; anchors are contrasted with the
      batch, its keys and a queue of past keys with their labels, so one
      machine sees far more negatives than a batch holds. The queue keeps
      each key's label indices (`[queue_size, max_labels]` int32), not a
      multi-hot row. `evaluate` reports the in-batch loss.
    - Many labels: the labels may come in the large-label form, a
      `tf.SparseTensor` `[B, L]` (see `sdl_keras.relations.sparse_labels`);
      `[B, L]` is then never made dense, except for the joint
      classification head.
    - `tf.distribute`: under a strategy, each replica's anchors are contrasted
      with the embeddings and labels gathered from all replicas, and the loss
      is the mean over the global batch, so the summed gradients equal those
      of one device holding the whole batch.

    The loss is the mean over anchors that have a positive (the loss's own
    `reduction` is not used here); `sample_weight` weighs samples in it.

    Args:
        encoder: a Keras model or layer mapping one view to features `[B, F]`.
        projection_head: the projection; defaults to `ProjectionHead()`
            (512 → 128, float32).
        num_views: views per sample, ≥ 1. Defaults to 2.
        augmentation: optional layer making one random view of a batch; it is
            called with `training=True` in `fit` and `evaluate`.
        num_labels: L, the width of the labels; required for joint training
            and for the queue.
        classification_weight: λ ≥ 0 of the joint BCE term. Defaults to 0.
        queue_size: keys kept in the queue; 0 (default) turns MoCo off. Must be
            at least the keys of one global step (batch · views).
        momentum: momentum of the key encoder, in [0, 1). Defaults to 0.999.
        max_labels: the most labels one sample carries: the label slots of a
            queue entry and of labels gathered across replicas in the
            large-label form. Defaults to `num_labels`; set it (say 64 for
            ICD codes) when L is large. A sample with more raises an error.
        input_shape: shape of one sample, needed only when `encoder` does not
            start with `keras.Input`.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Examples:

    >>> import numpy as np
    >>> encoder = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8)])
    >>> model = ContrastiveModel(encoder, ProjectionHead(4, (8,)))
    >>> model.compile(optimizer="adam", loss=SimilarityDissimilarityLoss())
    >>> views = np.random.default_rng(0).normal(size=(16, 2, 6))
    >>> labels = np.eye(4)[np.arange(16) % 4]
    >>> history = model.fit(views, labels, epochs=2, verbose=0)
    >>> sorted(history.history)
    ['contrastive_loss', 'loss']
    >>> model.predict(views[:, 0], verbose=0).shape
    (16, 4)

    Reference:
    - [Khosla et al., 2020](https://arxiv.org/abs/2004.11362), supervised
      contrastive learning; [He et al., 2020](https://arxiv.org/abs/1911.05722),
      MoCo.
    """

    def __init__(
        self,
        encoder: keras.layers.Layer,
        projection_head: keras.layers.Layer | None = None,
        num_views: int = 2,
        augmentation: keras.layers.Layer | None = None,
        num_labels: int | None = None,
        classification_weight: float = 0.0,
        queue_size: int = 0,
        momentum: float = 0.999,
        max_labels: int | None = None,
        input_shape: Sequence[int] | None = None,
        **kwargs,
    ) -> None:
        if keras.backend.backend() != "tensorflow":
            raise ValueError(
                "ContrastiveModel trains with tf.GradientTape and tf.distribute: "
                "set KERAS_BACKEND=tensorflow (the losses work on every backend)."
            )
        super().__init__(**kwargs)
        _check_hyper_parameters(
            num_views,
            num_labels,
            classification_weight,
            queue_size,
            momentum,
            max_labels,
        )
        self.encoder = functional_encoder(encoder, input_shape)
        self.projection_head = projection_head or ProjectionHead()
        self.num_views = int(num_views)
        self.augmentation = augmentation
        self.num_labels = None if num_labels is None else int(num_labels)
        self.classification_weight = float(classification_weight)
        self.queue_size = int(queue_size)
        self.momentum = float(momentum)
        self.max_labels = None if max_labels is None else int(max_labels)
        self.input_shape = None if input_shape is None else tuple(input_shape)

        features = feature_dim(self.encoder)
        if not self.projection_head.built:
            self.projection_head.build((None, features))
        embedding_dim = self.projection_head.compute_output_shape((None, features))[-1]
        self.classification_head = None
        if self.classification_weight > 0:
            self.classification_head = keras.layers.Dense(
                self.num_labels, dtype="float32", name="classification_head"
            )
            self.classification_head.build((None, features))
        if self.queue_size:
            self._build_queue(features, embedding_dim)

        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.contrastive_loss_tracker = keras.metrics.Mean(name="contrastive_loss")
        self.classification_loss_tracker = None
        if self.classification_head is not None:
            self.classification_loss_tracker = keras.metrics.Mean(
                name="classification_loss"
            )
        self.contrastive_loss: WeightedSupConLoss | None = None
        self.built = True

    def _build_queue(self, features: int, embedding_dim: int) -> None:
        self.key_encoder = keras.models.clone_model(self.encoder)
        self.key_head = self.projection_head.__class__.from_config(
            self.projection_head.get_config()
        )
        self.key_head.build((None, features))
        for key, query in (
            (self.key_encoder, self.encoder),
            (self.key_head, self.projection_head),
        ):
            key.set_weights(query.get_weights())
            key.trainable = False

        def state(name, shape, dtype="float32", initializer="zeros"):
            # Every replica computes the same update from gathered keys.
            return self.add_weight(
                shape=shape,
                initializer=initializer,
                dtype=dtype,
                trainable=False,
                name=name,
                aggregation="only_first_replica",
            )

        self.queue_embeddings = state(
            "queue_embeddings", (self.queue_size, embedding_dim)
        )
        # Label indices padded with -1: memory grows with max_labels, not L.
        self.queue_labels = state(
            "queue_labels",
            (self.queue_size, self._label_slots),
            "int32",
            keras.initializers.Constant(-1),
        )
        self.queue_filled = state("queue_filled", (self.queue_size,))
        self.queue_pointer = state("queue_pointer", (), "int32")

    @property
    def _label_slots(self) -> int:
        assert self.num_labels is not None
        return self.max_labels or self.num_labels

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        trackers = [self.loss_tracker, self.contrastive_loss_tracker]
        if self.classification_loss_tracker is not None:
            trackers.append(self.classification_loss_tracker)
        return trackers

    def compile(self, optimizer="adamw", loss=None, **kwargs) -> None:
        """Configures training; `loss` is a loss of `sdl_keras.losses`
        (defaults to `SimilarityDissimilarityLoss()`). Progress is reported as
        `loss`, `contrastive_loss` and, when joint, `classification_loss`;
        classification metrics belong to `MultiLabelClassifier`."""
        if kwargs.get("metrics") or kwargs.get("weighted_metrics"):
            raise ValueError(
                "ContrastiveModel reports its losses only; pass classification "
                "metrics to MultiLabelClassifier.compile."
            )
        loss = SimilarityDissimilarityLoss() if loss is None else loss
        if isinstance(loss, (str, dict)):
            loss = keras.saving.deserialize_keras_object(loss)
        if not isinstance(loss, WeightedSupConLoss):
            raise ValueError(
                "ContrastiveModel needs a contrastive loss from sdl_keras.losses "
                f"(e.g. SimilarityDissimilarityLoss()); received {loss!r}."
            )
        super().compile(optimizer=optimizer, **kwargs)
        self.contrastive_loss = loss

    def get_compile_config(self) -> dict:
        config = super().get_compile_config()
        if self.contrastive_loss is not None:
            config["loss"] = keras.saving.serialize_keras_object(self.contrastive_loss)
        return config

    def compile_from_config(self, config: dict) -> None:
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables)

    def call(self, inputs, training: bool = False):
        return self.projection_head(self.encoder(inputs, training=training))

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        """`keras.Model.fit`, with the labels checked in the data path first:
        under XLA (`jit_compile=True`) the step's own checks are compiled away."""
        x, y, validation_data = checked_training_data(x, y, validation_data)
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            views = self._views(x)
            features, embeddings = self._encode(
                self.encoder, self.projection_head, views, True
            )
            labels = self._check_labels(y)
            contrast = self._contrast_with_queue(views, embeddings, labels)
            contrastive = self._contrastive_loss(
                labels, embeddings, sample_weight, contrast
            )
            classification = self._classification_loss(labels, features)
            loss = contrastive + self.classification_weight * classification
            scaled = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        if contrast is not None:
            tf.distribute.get_replica_context().merge_call(
                self._update_keys_and_queue, args=contrast[:2]
            )
        return self._track(loss, contrastive, classification)

    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        views = self._views(x)
        features, embeddings = self._encode(
            self.encoder, self.projection_head, views, False
        )
        labels = self._check_labels(y)
        contrastive = self._contrastive_loss(labels, embeddings, sample_weight, None)
        classification = self._classification_loss(labels, features)
        loss = contrastive + self.classification_weight * classification
        return self._track(loss, contrastive, classification)

    def _views(self, x):
        """`[B, V, ...]`: the pipeline's views or V augmentations of `x`."""
        x = ops.convert_to_tensor(x)
        if self.augmentation is not None:
            return ops.stack(
                [self.augmentation(x, training=True) for _ in range(self.num_views)],
                axis=1,
            )
        sample_rank = len(self.encoder.inputs[0].shape) - 1
        if len(x.shape) != sample_rank + 2:
            raise ValueError(
                "Without an augmentation layer the inputs must hold the views: "
                f"shape [B, {self.num_views}, ...] with rank {sample_rank + 2}; "
                f"received shape {tuple(x.shape)}."
            )
        if x.shape[1] != self.num_views:
            raise ValueError(
                f"The views axis (axis 1) of the inputs has size {x.shape[1]}; "
                f"this model takes num_views={self.num_views}. Received shape "
                f"{tuple(x.shape)}."
            )
        return x

    def _encode(self, encoder, head, views, training: bool):
        """Features `[B·V, F]` (sample-major) and embeddings `[B, V, D]`."""
        shape = ops.shape(views)
        tail = [views.shape[i] or shape[i] for i in range(2, len(views.shape))]
        features = encoder(ops.reshape(views, [-1, *tail]), training=training)
        embeddings = head(features, training=training)
        return features, ops.reshape(
            embeddings, (-1, self.num_views, embeddings.shape[-1])
        )

    def _check_labels(self, y):
        if y is None:
            raise ValueError("ContrastiveModel trains on labels: pass `y`.")
        labels = y if is_sparse(y) else ops.convert_to_tensor(y)
        if self.num_labels is not None and (
            len(labels.shape) != 2 or labels.shape[1] != self.num_labels
        ):
            raise ValueError(
                f"The labels must be multi-hot or sparse [B, {self.num_labels}] "
                f"(num_labels={self.num_labels}); received shape "
                f"{tuple(labels.shape)}."
            )
        return labels

    def _contrast_with_queue(self, views, embeddings, labels):
        """With a queue: the keys of this step and the contrast set they
        form with the gathered queries and the queue; otherwise `None`."""
        if not self.queue_size:
            return None
        assert self.num_labels is not None
        _, keys = self._encode(self.key_encoder, self.key_head, views, False)
        keys = ops.stop_gradient(_gather(keys))
        key_labels = ops.repeat(
            _gather(padded_label_indices(labels, self._label_slots)),
            self.num_views,
            0,
        )
        keys = ops.reshape(keys, (-1, keys.shape[-1]))
        queries = ops.reshape(_gather(embeddings), (-1, keys.shape[-1]))
        contrast_embeddings = ops.concatenate(
            [queries, keys, ops.convert_to_tensor(self.queue_embeddings)], axis=0
        )
        contrast_labels = LabelSets.from_padded_indices(
            ops.concatenate(
                [key_labels, key_labels, ops.convert_to_tensor(self.queue_labels)],
                axis=0,
            ),
            self.num_labels,
        )
        present = ops.ones_like(key_labels[:, 0], "float32")
        contrast_mask = ops.concatenate(
            [present, present, ops.convert_to_tensor(self.queue_filled)], axis=0
        )
        return (
            keys,
            key_labels,
            (contrast_labels, contrast_embeddings, contrast_mask > 0.5),
        )

    def _contrastive_loss(self, labels, embeddings, sample_weight, contrast):
        if self.contrastive_loss is None:
            raise ValueError("Call `compile` before training the model.")
        offset = _replica_offset(ops.shape(embeddings)[0]) * self.num_views
        if contrast is None:
            contrast_labels, contrast_embeddings, contrast_mask = (
                self._gathered_labels(labels),
                _gather(embeddings),
                None,
            )
        else:
            contrast_labels, contrast_embeddings, contrast_mask = contrast[2]
        losses, has_positive = weighted_supcon_loss(
            labels,
            embeddings,
            scheme=self.contrastive_loss.scheme,
            temperature=self.contrastive_loss.temperature,
            contrast_labels=contrast_labels,
            contrast_embeddings=contrast_embeddings,
            contrast_mask=contrast_mask,
            self_offset=offset,
        )
        weighted, _, count = masked_anchor_losses(losses, has_positive, sample_weight)
        return _share_of_global_mean(ops.sum(weighted), count)

    def _gathered_labels(self, labels):
        """The labels of every replica; sparse ones travel as label indices."""
        if not is_sparse(labels) or _replica_context() is None:
            return _gather(labels)
        slots = _gather(padded_label_indices(labels, self._label_slots))
        return LabelSets.from_padded_indices(slots, self.num_labels or labels.shape[1])

    def _classification_loss(self, labels, features):
        if self.classification_head is None:
            return ops.zeros(())
        logits = self.classification_head(features)
        if is_sparse(labels):
            # The head is [B, L] by nature: its targets are made dense.
            labels = tf.sparse.to_dense(labels, validate_indices=False)
        targets = ops.repeat(ops.cast(labels, "float32"), self.num_views, axis=0)
        losses = keras.losses.binary_crossentropy(targets, logits, from_logits=True)
        return _share_of_global_mean(
            ops.sum(losses), ops.cast(ops.shape(losses)[0], "float32")
        )

    def _update_keys_and_queue(self, strategy, keys, key_labels) -> None:
        """Cross-replica: momentum update of the key encoder, then enqueue."""
        keys = strategy.experimental_local_results(keys)[0]
        key_labels = strategy.experimental_local_results(key_labels)[0]
        for key, query in zip(self._key_weights(), self._query_weights(), strict=True):
            key.assign(self.momentum * key + (1.0 - self.momentum) * query)
        count = ops.shape(keys)[0]
        tf.debugging.assert_less_equal(
            count,
            self.queue_size,
            message=f"queue_size={self.queue_size} is smaller than the keys of "
            "one step (global batch · views); raise it or lower the batch.",
        )
        slots = (ops.arange(count) + self.queue_pointer) % self.queue_size
        slots = slots[:, None]
        self.queue_embeddings.assign(
            ops.scatter_update(self.queue_embeddings, slots, keys)
        )
        self.queue_labels.assign(
            ops.scatter_update(self.queue_labels, slots, key_labels)
        )
        self.queue_filled.assign(
            ops.scatter_update(self.queue_filled, slots, ops.ones((count,)))
        )
        self.queue_pointer.assign((self.queue_pointer + count) % self.queue_size)

    def _key_weights(self) -> list:
        return _float_weights(self.key_encoder, self.key_head)

    def _query_weights(self) -> list:
        return _float_weights(self.encoder, self.projection_head)

    def _track(self, loss, contrastive, classification) -> dict:
        self.loss_tracker.update_state(_sum_over_replicas(loss))
        self.contrastive_loss_tracker.update_state(_sum_over_replicas(contrastive))
        if self.classification_loss_tracker is not None:
            self.classification_loss_tracker.update_state(
                _sum_over_replicas(classification)
            )
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self) -> dict:
        serialize = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "encoder": serialize(self.encoder),
            "projection_head": serialize(self.projection_head),
            "num_views": self.num_views,
            "augmentation": serialize(self.augmentation),
            "num_labels": self.num_labels,
            "classification_weight": self.classification_weight,
            "queue_size": self.queue_size,
            "momentum": self.momentum,
            "max_labels": self.max_labels,
            "input_shape": self.input_shape,
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        for key in ("encoder", "projection_head", "augmentation"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _check_hyper_parameters(
    num_views, num_labels, classification_weight, queue_size, momentum, max_labels
) -> None:
    if int(num_views) != num_views or num_views < 1:
        raise ValueError(f"`num_views` must be an integer ≥ 1; received {num_views}.")
    for name, count in (("num_labels", num_labels), ("max_labels", max_labels)):
        if count is not None and (int(count) != count or count < 1):
            raise ValueError(f"`{name}` must be an integer ≥ 1; received {count}.")
    if not math.isfinite(classification_weight) or classification_weight < 0:
        raise ValueError(
            "`classification_weight` must be finite and ≥ 0; received "
            f"{classification_weight}."
        )
    if int(queue_size) != queue_size or queue_size < 0:
        raise ValueError(f"`queue_size` must be an integer ≥ 0; received {queue_size}.")
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"`momentum` must be in [0, 1); received {momentum}.")
    if (classification_weight > 0 or queue_size > 0) and num_labels is None:
        raise ValueError(
            "`num_labels` is required for joint training (classification_weight "
            "> 0) and for the queue (queue_size > 0)."
        )


def _float_weights(*layers) -> list:
    # Parameters and statistics follow the momentum; random seed states do not.
    return [
        weight
        for layer in layers
        for weight in layer.weights
        if "float" in keras.backend.standardize_dtype(weight.dtype)
    ]


def _replica_context():
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def _gather(values):
    """The values of every replica, concatenated in replica order."""
    context = _replica_context()
    if context is None:
        return values
    # An identity places the value on this replica's device: batches straight
    # from a multi-worker input pipeline carry none, and the collective needs
    # one.
    gathered = context.all_gather(tf.identity(values), axis=0)
    # all_gather forgets the static shape the loss needs.
    return tf.ensure_shape(gathered, [None, *values.shape[1:]])


def _replica_offset(local_batch):
    """Index of this replica's first sample in the gathered batch."""
    context = _replica_context()
    if context is None:
        return 0
    sizes = context.all_gather(ops.reshape(local_batch, (1,)), axis=0)
    before = ops.arange(context.num_replicas_in_sync) < context.replica_id_in_sync_group
    return ops.sum(ops.where(before, sizes, 0))


def _sum_over_replicas(value):
    context = _replica_context()
    if context is None:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def _share_of_global_mean(local_sum, local_count):
    """This replica's share of the global mean: summed over replicas (as the
    optimizer sums gradients), the shares give the mean of the whole batch."""
    return ops.divide_no_nan(local_sum, _sum_over_replicas(local_count))
