"""One worker of a two-process training job (or the one-process reference),
for test_multi_worker.py: `python multi_worker.py '<json options>'`.

Options: `ports` (the cluster's, on 127.0.0.1) and `index` for a worker, none
for the reference, which trains the same global batches with `model.fit`;
`backup` (a directory), `log` and `weights` (output paths), `pause` (seconds
after each step, to be killed mid-epoch), `queue_size` (default 64).
"""

import json
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from sdl_keras import losses
from sdl_keras.distributed import cluster_strategy, fit_distributed
from sdl_keras.models import ContrastiveModel, ProjectionHead

EPOCHS, STEPS, GLOBAL_BATCH, NUM_LABELS = 3, 6, 16, 5


class StepLog(keras.callbacks.Callback):
    def __init__(self, options: dict) -> None:
        super().__init__()
        self.options = options

    def on_train_batch_end(self, batch, logs=None):
        with open(self.options["log"], "a") as log:
            log.write(json.dumps({"epoch": self.epoch, "batch": batch}) + "\n")
        time.sleep(self.options.get("pause", 0.0))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


def main(options: dict) -> None:
    if "ports" in options:
        # Read when the strategy is made, which is the first thing TF does.
        cluster = [f"127.0.0.1:{port}" for port in options["ports"]]
        os.environ["TF_CONFIG"] = json.dumps(
            {
                "cluster": {"worker": cluster},
                "task": {"type": "worker", "index": options["index"]},
            }
        )
    strategy = cluster_strategy()
    rng = np.random.default_rng(0)
    count = STEPS * GLOBAL_BATCH
    views = rng.normal(size=(count, 2, 6)).astype("float32")
    labels = np.zeros((count, NUM_LABELS), "float32")
    for row in labels:
        row[rng.choice(NUM_LABELS, rng.integers(1, 3), replace=False)] = 1.0
    with strategy.scope():
        keras.utils.set_random_seed(0)
        encoder = keras.Sequential(
            [keras.Input((6,)), keras.layers.Dense(8, activation="tanh")]
        )
        model = ContrastiveModel(
            encoder,
            ProjectionHead(4, (8,)),
            num_labels=NUM_LABELS,
            queue_size=options.get("queue_size", 64),
            momentum=0.9,
            classification_weight=0.5,
        )
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss=losses.SDL(0.2))

    def make_dataset(context: tf.distribute.InputContext) -> tf.data.Dataset:
        # Worker i takes every other sample: its halves of the global batches.
        return (
            tf.data.Dataset.from_tensor_slices((views, labels))
            .shard(context.num_input_pipelines, context.input_pipeline_id)
            .batch(context.get_per_replica_batch_size(GLOBAL_BATCH))
        )

    if "ports" in options:
        fit_distributed(
            model,
            make_dataset,
            EPOCHS,
            STEPS,
            backup_dir=options.get("backup"),
            backup_every=1,
            callbacks=[StepLog(options)],
            verbose=0,
        )
    else:
        model.fit(
            views,
            labels,
            batch_size=GLOBAL_BATCH,
            epochs=EPOCHS,
            shuffle=False,
            verbose=0,
        )
    np.savez(
        options["weights"],
        steps=int(model.optimizer.iterations.numpy()),
        **{f"w{i}": w for i, w in enumerate(model.get_weights())},
    )


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
