"""The second stage: a (pre-trained) encoder plus a sigmoid head."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops
from scipy import special

from sdl_keras._checks import checked_training_data
from sdl_keras.metrics import ThresholdChoice, choose_thresholds
from sdl_keras.models._encoders import feature_dim, functional_encoder
from sdl_keras.models.neighbour_labels import NeighbourLabels

MODES = ("linear_probe", "fine_tune")


@keras.saving.register_keras_serializable(package="sdl_keras")
class MultiLabelClassifier(keras.Model):
    """An encoder with a sigmoid head, trained with binary cross-entropy.

    `predict` returns label probabilities `[B, L]` (float32). Decision
    thresholds tuned on validation data (`tune_thresholds`) are model weights:
    they are saved with the model and used by `predict_labels`; how they were
    chosen (`sdl_keras.metrics.ThresholdChoice`) is `threshold_choice` until
    the model is saved.

    Args:
        encoder: a Keras model or layer mapping inputs to `[B, F]`, usually
            `ContrastiveModel.encoder` after pre-training.
        num_labels: number of labels L.
        mode: `"linear_probe"` (the encoder is frozen: `trainable=False` on
            the encoder object, which a `ContrastiveModel` may share, and run
            in inference mode) or `"fine_tune"` (encoder trained too).
        encoder_learning_rate_multiplier: in fine-tune mode, the encoder's
            learning rate relative to the head's (a copy of the compiled
            optimizer with the scaled rate updates it). Defaults to 0.1.
        dropout: dropout rate before the head. Defaults to 0.
        linear_model: optional frozen model mapping the same inputs to label
            logits `[B, L]` (a linear model fitted by a convex solver, see
            `sdl_keras.linear_blend`); its probabilities are blended in.
        linear_weight: the linear model's share of the blended
            probabilities, in [0, 1]. Defaults to 0.
        neighbours: optional `NeighbourLabels` over the encoder's features
            (the training examples' embeddings and labels, see
            `sdl_keras.neighbour_blend`); its label scores are blended in
            after the linear model's.
        neighbour_weight: the neighbours' share of the blended
            probabilities, in [0, 1]. Defaults to 0.
        input_shape: shape of one sample, needed only when `encoder` does not
            start with `keras.Input`.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Examples:

    >>> import numpy as np
    >>> encoder = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8)])
    >>> model = MultiLabelClassifier(encoder, num_labels=3)
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")
    >>> x = np.random.default_rng(0).normal(size=(32, 6))
    >>> y = (x[:, :3] > 0).astype("float32")
    >>> history = model.fit(x, y, epochs=1, verbose=0)
    >>> model.predict(x, verbose=0).shape
    (32, 3)
    >>> model.tune_thresholds(x, y).shape
    (3,)
    """

    def __init__(
        self,
        encoder: keras.layers.Layer,
        num_labels: int,
        mode: str = "linear_probe",
        encoder_learning_rate_multiplier: float = 0.1,
        dropout: float = 0.0,
        linear_model: keras.Model | None = None,
        linear_weight: float = 0.0,
        neighbours: NeighbourLabels | None = None,
        neighbour_weight: float = 0.0,
        input_shape: Sequence[int] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if int(num_labels) != num_labels or num_labels < 1:
            raise ValueError(
                f"`num_labels` must be an integer ≥ 1; received {num_labels}."
            )
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}; received {mode!r}.")
        if not encoder_learning_rate_multiplier > 0:
            raise ValueError(
                "`encoder_learning_rate_multiplier` must be > 0; received "
                f"{encoder_learning_rate_multiplier}."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1); received {dropout}.")
        self.encoder = functional_encoder(encoder, input_shape)
        self.num_labels = int(num_labels)
        self.mode = mode
        self.encoder_learning_rate_multiplier = float(encoder_learning_rate_multiplier)
        self.dropout = float(dropout)
        self.input_shape = None if input_shape is None else tuple(input_shape)
        if mode == "linear_probe":
            # Frozen, not merely without gradients: AdamW would still decay it.
            self.encoder.trainable = False

        self.dropout_layer = keras.layers.Dropout(self.dropout)
        self.head = keras.layers.Dense(self.num_labels, dtype="float32", name="head")
        self.head.build((None, feature_dim(self.encoder)))
        self.thresholds = self.add_weight(
            shape=(self.num_labels,),
            initializer=keras.initializers.Constant(0.5),
            trainable=False,
            name="thresholds",
        )
        # How `tune_thresholds` chose them; not saved (the weights are).
        self.threshold_choice: ThresholdChoice | None = None
        self.encoder_optimizer: keras.optimizers.Optimizer | None = None
        self.linear_model = None
        self.linear_weight = 0.0
        if linear_model is not None:
            self.blend_linear(linear_model, linear_weight)
        self.neighbours: NeighbourLabels | None = None
        self.neighbour_weight = 0.0
        if neighbours is not None:
            self.blend_neighbours(neighbours, neighbour_weight)
        self.built = True

    def start_from_label_frequencies(
        self, frequencies: np.ndarray | Sequence[float]
    ) -> None:
        """Sets the head's bias to the log-odds of each label's frequency in
        the training data, so that training starts from the prior instead of
        0.5 for every label.

        From 0.5, the first thousands of steps go to pushing every rare
        label's probability down (a bias of −6 for a label on one example
        in 400 is 3,000 Adam steps of 2e-3 away), and those uniform
        gradients run through a pre-trained encoder too.

        Args:
            frequencies: each label's share of positive training examples,
                `[L]` in [0, 1] (0 or 1: a bias 1e-6 from it).

        >>> import numpy as np
        >>> encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8)])
        >>> model = MultiLabelClassifier(encoder, num_labels=3)
        >>> model.start_from_label_frequencies(np.array([0.5, 0.1, 0.0]))
        >>> np.round(keras.ops.convert_to_numpy(model.head.bias), 2)
        array([  0.  ,  -2.2 , -13.82], dtype=float32)
        """
        frequencies = np.asarray(frequencies, dtype="float64").ravel()
        if frequencies.shape != (self.num_labels,):
            raise ValueError(
                f"`frequencies` must have shape ({self.num_labels},); received "
                f"{frequencies.shape}."
            )
        if not np.all((frequencies >= 0) & (frequencies <= 1)):
            raise ValueError(
                "`frequencies` must be in [0, 1]; received values from "
                f"{frequencies.min()} to {frequencies.max()}."
            )
        # A label never (or always) seen gets a large finite bias, not ±inf.
        clipped = np.clip(frequencies, 1e-6, 1 - 1e-6)
        self.head.bias.assign(special.logit(clipped).astype("float32"))

    def blend_linear(self, linear_model: keras.Model, weight: float) -> None:
        """Blends the probabilities of a frozen `linear_model` (inputs → label
        logits) into this classifier's: `(1 - weight) · own + weight · linear`."""
        share = _checked_share("linear_weight", weight)
        linear_model.trainable = False
        self._replace_part("linear_model", linear_model)
        self.linear_weight = share
        self._forget_traced_functions()

    def blend_neighbours(self, neighbours: NeighbourLabels, weight: float) -> None:
        """Blends the label scores of `neighbours` (a `NeighbourLabels` over
        this classifier's encoder features) into its probabilities:
        `(1 - weight) · blended so far + weight · neighbours`."""
        share = _checked_share("neighbour_weight", weight)
        if (neighbours.feature_dim, neighbours.num_labels) != (
            feature_dim(self.encoder),
            self.num_labels,
        ):
            raise ValueError(
                "`neighbours` must store the encoder's features "
                f"({feature_dim(self.encoder)}) and {self.num_labels} labels; "
                f"received {neighbours.feature_dim} and {neighbours.num_labels}."
            )
        neighbours.trainable = False
        self._replace_part("neighbours", neighbours)
        self.neighbour_weight = share
        self._forget_traced_functions()

    def remove_linear(self) -> None:
        """Takes the blended linear model out: the probabilities are the
        network's (and its neighbour blend's) again, and a saved model no
        longer carries the linear model."""
        self._remove_part("linear_model", "linear_weight")

    def remove_neighbours(self) -> None:
        """Takes the blended neighbours out: the probabilities are the
        classifier's (and its linear blend's) again, and a saved model no
        longer carries the stored examples."""
        self._remove_part("neighbours", "neighbour_weight")

    def _remove_part(self, name: str, weight_name: str) -> None:
        self._replace_part(name, None)
        setattr(self, weight_name, 0.0)
        self._forget_traced_functions()

    def _replace_part(self, name: str, part) -> None:
        # Keras tracks every layer ever assigned: the replaced one's variables
        # would stay in `weights` and in an export.
        replaced = getattr(self, name)
        if replaced is not None and replaced is not part:
            self._tracker.untrack(replaced)
        setattr(self, name, part)

    def _forget_traced_functions(self) -> None:
        # Functions traced before a blend would go on without it.
        self.train_function = self.test_function = self.predict_function = None

    def call(self, inputs, training: bool = False):
        return self.features_and_probabilities(inputs, training)[1]

    def features_and_probabilities(self, inputs, training: bool = False) -> tuple:
        """The encoder's features `[B, F]` and the label probabilities
        `[B, L]` of one forward pass (what a served model returns)."""
        features = self.encoder(inputs, training=training and self.mode == "fine_tune")
        dropped = self.dropout_layer(features, training=training)
        probabilities = ops.sigmoid(self.head(dropped))
        if self.linear_model is not None and self.linear_weight > 0:
            linear = ops.sigmoid(self.linear_model(inputs, training=False))
            probabilities = (
                1.0 - self.linear_weight
            ) * probabilities + self.linear_weight * ops.cast(linear, "float32")
        if self.neighbours is not None and self.neighbour_weight > 0:
            probabilities = (
                1.0 - self.neighbour_weight
            ) * probabilities + self.neighbour_weight * self.neighbours(features)
        return features, probabilities

    def compile(self, optimizer="adamw", loss="binary_crossentropy", **kwargs) -> None:
        """As `keras.Model.compile`, with BCE as the default loss; in fine-tune
        mode with a multiplier ≠ 1, also makes the encoder's optimizer."""
        super().compile(optimizer=optimizer, loss=loss, **kwargs)
        self.encoder_optimizer = None
        if self.mode == "fine_tune" and self.encoder_learning_rate_multiplier != 1.0:
            encoder_optimizer = _scaled_copy(
                self.optimizer, self.encoder_learning_rate_multiplier
            )
            encoder_optimizer.build(self.encoder.trainable_variables)
            self.encoder_optimizer = encoder_optimizer
            self.optimizer.build(self._head_variables())

    def compile_from_config(self, config: dict) -> None:
        self.compile(**keras.saving.deserialize_keras_object(config))
        if not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def _head_variables(self) -> list:
        in_encoder = {id(variable) for variable in self.encoder.trainable_variables}
        return [v for v in self.trainable_variables if id(v) not in in_encoder]

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        """`keras.Model.fit`, with the labels checked in the data path first:
        under XLA (`jit_compile=True`) the step's own checks are compiled away."""
        x, y, validation_data = checked_training_data(x, y, validation_data)
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def train_step(self, data):
        if self.encoder_optimizer is None:
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        encoder_variables = self.encoder.trainable_variables
        head_variables = self._head_variables()
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
        gradients = tape.gradient(loss, encoder_variables + head_variables)
        split = len(encoder_variables)
        self.encoder_optimizer.apply(gradients[:split], encoder_variables)
        self.optimizer.apply(gradients[split:], head_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return self.get_metrics_result()

    def tune_thresholds(
        self,
        x,
        y,
        per_label: bool | None = True,
        candidates: Sequence[float] | None = None,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Sets the decision thresholds that maximise F1 on validation data.

        Args:
            x: validation inputs.
            y: their multi-hot labels `[N, L]`.
            per_label: one threshold per label (labels without positives in
                `y` get the global one); `False`: one threshold maximising
                micro-F1 for all labels; `None`: per label, shrunk toward
                the global one or the label's band's as far as generalises
                (see `sdl_keras.metrics.best_threshold`).
            candidates: thresholds tried; defaults to 0.01 ... 0.99.
            batch_size: for `predict`.

        Returns:
            The thresholds now stored, `[L]`.
        """
        labels = np.asarray(y)
        if labels.ndim != 2 or labels.shape[1] != self.num_labels:
            raise ValueError(
                f"`y` must be multi-hot [N, {self.num_labels}]; received shape "
                f"{labels.shape}."
            )
        scores = self.predict(x, batch_size=batch_size, verbose=0)
        self.threshold_choice = choose_thresholds(labels, scores, per_label, candidates)
        thresholds = np.broadcast_to(
            self.threshold_choice.thresholds, (self.num_labels,)
        ).astype("float32")
        self.thresholds.assign(thresholds)
        return thresholds

    def predict_labels(self, x, batch_size: int | None = None) -> np.ndarray:
        """Binary predictions `[N, L]` at the stored thresholds."""
        scores = self.predict(x, batch_size=batch_size, verbose=0)
        return (scores >= ops.convert_to_numpy(self.thresholds)).astype("int32")

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_labels": self.num_labels,
            "mode": self.mode,
            "encoder_learning_rate_multiplier": self.encoder_learning_rate_multiplier,
            "dropout": self.dropout,
            "linear_model": None
            if self.linear_model is None
            else keras.saving.serialize_keras_object(self.linear_model),
            "linear_weight": self.linear_weight,
            "neighbours": None
            if self.neighbours is None
            else keras.saving.serialize_keras_object(self.neighbours),
            "neighbour_weight": self.neighbour_weight,
            "input_shape": self.input_shape,
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        for part in ("linear_model", "neighbours"):
            if config.get(part) is not None:
                config[part] = keras.saving.deserialize_keras_object(config[part])
        return cls(**config)


def _checked_share(name: str, weight: float) -> float:
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"`{name}` must be in [0, 1]; received {weight}.")
    return float(weight)


def _scaled_copy(
    optimizer: keras.optimizers.Optimizer, multiplier: float
) -> keras.optimizers.Optimizer:
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        raise ValueError(
            "Fine-tuning with encoder_learning_rate_multiplier ≠ 1 needs one "
            "loss scale for two optimizers, which mixed_float16 does not give; "
            "use mixed_bfloat16 or a multiplier of 1."
        )
    config = optimizer.get_config()
    if not isinstance(config["learning_rate"], (int, float)):
        raise ValueError(
            "encoder_learning_rate_multiplier ≠ 1 needs a constant learning "
            "rate; with a schedule, pass the multiplier 1 and scale the schedule."
        )
    config["learning_rate"] = config["learning_rate"] * multiplier
    config["name"] = f"{config['name']}_encoder"
    return optimizer.__class__.from_config(config)
