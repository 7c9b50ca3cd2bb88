"""The losses inside `model.compile` / `fit`, saving and loading."""

import keras
import numpy as np
import pytest

from sdl_keras import losses, relations
from tests.conftest import random_multi_hot


def encoder(num_features: int, dim: int = 8) -> keras.Model:
    inputs = keras.Input((num_features,))
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(dim)(hidden))


def labelled_features(rng, batch=64, num_labels=6, noise=0.3):
    labels = random_multi_hot(rng, batch, num_labels, 0.3)
    features = labels @ rng.normal(size=(num_labels, 12)) + noise * rng.normal(
        size=(batch, 12)
    )
    return features.astype("float32"), labels


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("loss_class", [losses.SDL, losses.MulSupConLoss])
def test_fit_lowers_the_loss(rng, jit_compile, loss_class):
    keras.utils.set_random_seed(0)
    features, labels = labelled_features(rng)
    model = encoder(features.shape[1])
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=loss_class(),
        jit_compile=jit_compile,
    )
    before = model.evaluate(features, labels, batch_size=32, verbose=0)
    history = model.fit(features, labels, batch_size=32, epochs=30, verbose=0)
    after = model.evaluate(features, labels, batch_size=32, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert after < 0.85 * before


def test_fit_with_many_sparse_labels_under_xla(rng, tensorflow_backend):
    keras.utils.set_random_seed(0)
    num_labels = relations.SPARSE_MIN_LABELS + 100
    labels = random_multi_hot(rng, 64, num_labels, 4 / num_labels)
    features = labels @ rng.normal(size=(num_labels, 12)).astype("float32")
    histories = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(0)
        model = encoder(12)
        model.compile(
            optimizer=keras.optimizers.Adam(0.01),
            loss=losses.SDL(),
            jit_compile=jit_compile,
        )
        history = model.fit(
            features, labels, batch_size=32, epochs=5, shuffle=False, verbose=0
        )
        histories.append(history.history["loss"])
    # XLA runs the sparse counting path to the same numbers as the graph.
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-4)
    assert histories[0][-1] < histories[0][0]


def test_bad_labels_fail_inside_fit_with_the_message(rng):
    features, labels = labelled_features(rng, batch=32)
    model = encoder(features.shape[1])
    model.compile(optimizer="adam", loss=losses.SDL(), jit_compile=False)
    with pytest.raises(Exception, match="0 or 1"):
        model.fit(features, 3.0 * labels, batch_size=16, epochs=1, verbose=0)


def test_mismatched_batch_fails_inside_fit(rng):
    tf = pytest.importorskip("tensorflow")
    features, labels = labelled_features(rng, batch=32)
    # Batches of 16 inputs with 10 labels: Keras's own adapters never see the
    # mismatch, so the loss must name it.
    data = tf.data.Dataset.zip(
        tf.data.Dataset.from_tensor_slices(features).batch(16),
        tf.data.Dataset.from_tensor_slices(labels).batch(10),
    )
    model = encoder(features.shape[1])
    model.compile(optimizer="adam", loss=losses.SDL(), jit_compile=False)
    with pytest.raises(Exception, match="must have the same batch size"):
        model.fit(data, epochs=1, verbose=0)


def test_compiled_model_saves_and_loads(rng, tmp_path):
    keras.utils.set_random_seed(0)
    features, labels = labelled_features(rng, batch=32)
    model = encoder(features.shape[1])
    model.compile(
        optimizer="adamw",
        loss=losses.SimilarityDissimilarityLoss(temperature=0.1, reduction="sum"),
    )
    model.fit(features, labels, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored.loss, losses.SimilarityDissimilarityLoss)
    assert restored.loss.get_config() == model.loss.get_config()
    np.testing.assert_allclose(
        restored.predict(features, verbose=0), model.predict(features, verbose=0)
    )
    assert restored.evaluate(features, labels, verbose=0) == pytest.approx(
        model.evaluate(features, labels, verbose=0), rel=1e-5
    )


def test_mixed_bfloat16_training(rng, restore_policy):
    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy("mixed_bfloat16")
    features, labels = labelled_features(rng)
    model = encoder(features.shape[1])
    model.compile(optimizer="adam", loss=losses.SDL())
    history = model.fit(features, labels, batch_size=32, epochs=10, verbose=0)
    losses_seen = history.history["loss"]
    assert np.all(np.isfinite(losses_seen)) and losses_seen[-1] < losses_seen[0]
