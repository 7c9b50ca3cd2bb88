"""Trains a model with BackupAndRestore and logs its progress line by line, so
that test_resume.py can kill it with SIGKILL and start it again."""

import json
import sys
import time

import keras
import numpy as np

from sdl_keras.models import ContrastiveModel, MultiLabelClassifier, ProjectionHead

EPOCHS, STEPS, BATCH = 4, 12, 8


class ProgressLog(keras.callbacks.Callback):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def write(self, **record) -> None:
        with open(self.path, "a") as log:
            log.write(json.dumps(record) + "\n")

    def state(self) -> dict:
        return {
            "iterations": [
                int(optimizer.iterations.numpy())
                for optimizer in optimizers(self.model)
            ],
            "checksum": float(sum(np.abs(w.numpy()).sum() for w in self.model.weights)),
        }

    def on_train_begin(self, logs=None):
        self.write(event="train_begin", **self.state())

    def on_train_batch_end(self, batch, logs=None):
        self.write(event="batch", epoch=self.epoch, batch=batch)
        time.sleep(0.05)

    def on_epoch_end(self, epoch, logs=None):
        self.write(event="epoch_end", epoch=epoch, **self.state())

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.write(event="epoch_begin", epoch=epoch)


def optimizers(model) -> list:
    extra = getattr(model, "encoder_optimizer", None)
    return [model.optimizer] + ([extra] if extra is not None else [])


def build(kind: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    encoder = keras.Sequential(
        [
            keras.Input((10,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(8),
        ]
    )
    if kind == "contrastive":
        model = ContrastiveModel(
            encoder,
            ProjectionHead(6, (12,)),
            num_labels=5,
            classification_weight=0.5,
            queue_size=32,
        )
        model.compile(optimizer="adam")
    else:
        model = MultiLabelClassifier(encoder, 5, mode="fine_tune")
        model.compile(optimizer="adam")
    return model


def main() -> None:
    kind, backup_dir, log_path = sys.argv[1:4]
    rng = np.random.default_rng(0)
    labels = (rng.random((STEPS * BATCH, 5)) < 0.4).astype("float32")
    centres = labels @ rng.normal(size=(5, 10))
    x = (centres[:, None] + 0.3 * rng.normal(size=(STEPS * BATCH, 2, 10))).astype(
        "float32"
    )
    if kind != "contrastive":
        x = x[:, 0]
    model = build(kind)
    history = model.fit(
        x,
        labels,
        batch_size=BATCH,
        epochs=EPOCHS,
        verbose=0,
        callbacks=[keras.callbacks.BackupAndRestore(backup_dir), ProgressLog(log_path)],
    )
    ProgressLog(log_path).write(
        event="done", epochs=len(history.epoch), first=history.epoch[0]
    )


if __name__ == "__main__":
    main()
