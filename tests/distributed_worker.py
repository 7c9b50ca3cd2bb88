"""Runs two training steps on two logical CPUs and on one device, same data and
initial weights, and prints both results as JSON (see test_distribution.py).

Separate process: logical devices must be configured before TensorFlow starts.
"""

import json
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from sdl_keras import losses  # noqa: E402
from sdl_keras.models import ContrastiveModel, ProjectionHead  # noqa: E402


def build(options: dict) -> ContrastiveModel:
    encoder = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8, activation="tanh")]
    )
    model = ContrastiveModel(encoder, ProjectionHead(4, (8,)), **options)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1.0),
        loss=losses.SimilarityDissimilarityLoss(temperature=0.5),
    )
    return model


def two_steps(options: dict, strategy, weights, x, y) -> dict:
    with strategy.scope():
        model = build(options)
        model.set_weights(weights)
    history = model.fit(x, y, batch_size=len(x) // 2, shuffle=False, verbose=0)
    return {
        "logs": {name: values[0] for name, values in history.history.items()},
        "weights": [w.numpy().tolist() for w in model.weights],
    }


def main() -> None:
    options = json.loads(sys.argv[1])
    # Fixed initial weights: some draws put a projection near zero norm, where
    # the normalisation's gradient explodes and float32 rounding shows.
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(8, 2, 6)).astype("float32")
    y = (rng.random((8, 5)) < 0.4).astype("float32")
    y[0] = 0.0
    initial = build(options)
    weights = initial.get_weights()
    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    mirrored = tf.distribute.MirroredStrategy(devices)
    single = tf.distribute.get_strategy()
    result = {
        "replicas": mirrored.num_replicas_in_sync,
        "names": [w.path.split("/")[-1] for w in initial.weights],
        "initial": [w.numpy().tolist() for w in initial.weights],
        "mirrored": two_steps(options, mirrored, weights, x, y),
        "single": two_steps(options, single, weights, x, y),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
