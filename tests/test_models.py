"""ContrastiveModel and MultiLabelClassifier: steps, queue, saving, errors."""

import keras
import numpy as np
import pytest

from sdl_keras import losses
from sdl_keras.models import ContrastiveModel, MultiLabelClassifier, ProjectionHead
from tests.conftest import random_multi_hot

pytestmark = pytest.mark.tensorflow_only

NUM_FEATURES, NUM_LABELS = 10, 5


@pytest.fixture(autouse=True)
def tensorflow_only(tensorflow_backend):
    keras.utils.set_random_seed(0)


def make_encoder(dim: int = 8) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((NUM_FEATURES,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(dim),
        ]
    )


def make_data(rng, batch=48, views=2, noise=0.3):
    labels = random_multi_hot(rng, batch, NUM_LABELS, 0.35)
    centres = labels @ rng.normal(size=(NUM_LABELS, NUM_FEATURES))
    samples = centres[:, None] + noise * rng.normal(size=(batch, views, NUM_FEATURES))
    return samples.astype("float32"), labels


def make_model(**options) -> ContrastiveModel:
    model = ContrastiveModel(make_encoder(), ProjectionHead(6, (12,)), **options)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=losses.SimilarityDissimilarityLoss(temperature=0.2),
    )
    return model


def test_evaluate_equals_the_loss_on_the_embedded_views(rng):
    views, labels = make_data(rng)
    model = make_model()
    logs = model.evaluate(views, labels, batch_size=48, verbose=0, return_dict=True)
    embedded = np.stack([model.predict(views[:, v], verbose=0) for v in (0, 1)], 1)
    expected = losses.SimilarityDissimilarityLoss(temperature=0.2)(labels, embedded)
    assert logs["loss"] == pytest.approx(float(expected), rel=1e-5)
    assert logs["contrastive_loss"] == logs["loss"]
    np.testing.assert_allclose(np.linalg.norm(embedded, axis=-1), 1.0, rtol=1e-5)


def test_fit_on_pipeline_views_lowers_the_loss(rng):
    views, labels = make_data(rng)
    model = make_model()
    before = model.evaluate(views, labels, batch_size=16, verbose=0)[0]
    history = model.fit(views, labels, batch_size=16, epochs=15, verbose=0)
    assert sorted(history.history) == ["contrastive_loss", "loss"]
    assert model.evaluate(views, labels, batch_size=16, verbose=0)[0] < 0.93 * before


def test_augmentation_makes_the_views(rng):
    views, labels = make_data(rng, views=1)
    augmentation = keras.Sequential([keras.layers.GaussianNoise(0.2, seed=3)])
    model = make_model(num_views=3, augmentation=augmentation)
    history = model.fit(views[:, 0], labels, batch_size=16, epochs=5, verbose=0)
    losses_seen = history.history["loss"]
    assert np.all(np.isfinite(losses_seen)) and losses_seen[-1] < losses_seen[0]
    assert model.predict(views[:, 0], verbose=0).shape == (48, 6)


def test_joint_training_logs_and_weighs_the_classification_loss(rng):
    views, labels = make_data(rng)
    model = make_model(num_labels=NUM_LABELS, classification_weight=0.5)
    logs = model.evaluate(views, labels, batch_size=48, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(
        logs["contrastive_loss"] + 0.5 * logs["classification_loss"], rel=1e-5
    )
    features = model.encoder.predict(views.reshape(-1, NUM_FEATURES), verbose=0)
    logits = model.classification_head(features)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)(
        np.repeat(labels, 2, axis=0), logits
    )
    assert logs["classification_loss"] == pytest.approx(float(bce), rel=1e-5)
    history = model.fit(views, labels, batch_size=16, epochs=10, verbose=0)
    assert history.history["classification_loss"][-1] < logs["classification_loss"]


def test_queue_holds_the_keys_of_the_last_steps(rng):
    views, labels = make_data(rng, batch=8)
    model = make_model(num_labels=NUM_LABELS, queue_size=24, momentum=0.0)
    keys = np.stack([model.predict(views[:, v], verbose=0) for v in (0, 1)], 1)
    model.fit(views, labels, batch_size=8, epochs=1, shuffle=False, verbose=0)
    # Keys come from the key encoder before the step, sample-major.
    np.testing.assert_allclose(
        model.queue_embeddings.numpy()[:16], keys.reshape(16, 6), atol=1e-5
    )
    # The queue keeps label indices padded with -1, one row per key.
    stored = model.queue_labels.numpy()
    assert stored.shape == (24, NUM_LABELS) and stored.dtype == np.int32
    multi_hot = np.zeros((16, NUM_LABELS))
    for row, indices in enumerate(stored[:16]):
        multi_hot[row, indices[indices >= 0]] = 1
    np.testing.assert_array_equal(multi_hot, np.repeat(labels, 2, axis=0))
    assert (stored[16:] == -1).all()
    assert model.queue_filled.numpy().sum() == 16
    assert int(model.queue_pointer.numpy()) == 16
    # Momentum 0: the key encoder is the query encoder after each step.
    for key, query in zip(model._key_weights(), model._query_weights(), strict=True):
        np.testing.assert_allclose(key.numpy(), query.numpy())
    model.fit(views, labels, batch_size=8, epochs=1, verbose=0)
    assert model.queue_filled.numpy().sum() == 24
    assert int(model.queue_pointer.numpy()) == 32 % 24


def test_momentum_keeps_the_key_encoder_close(rng):
    views, labels = make_data(rng, batch=8)
    model = make_model(num_labels=NUM_LABELS, queue_size=16, momentum=0.99)
    start = [w.numpy() for w in model._key_weights()]
    query_start = [w.numpy() for w in model._query_weights()]
    model.fit(views, labels, batch_size=8, epochs=1, verbose=0)
    for key, before, query, query_before in zip(
        model._key_weights(), start, model._query_weights(), query_start, strict=True
    ):
        expected = 0.99 * before + 0.01 * query.numpy()
        np.testing.assert_allclose(key.numpy(), expected, rtol=1e-5, atol=1e-7)
        assert np.allclose(before, query_before)


def test_queue_smaller_than_one_step_is_an_error(rng):
    views, labels = make_data(rng, batch=16)
    model = make_model(num_labels=NUM_LABELS, queue_size=8)
    with pytest.raises(Exception, match="queue_size=8 is smaller"):
        model.fit(views, labels, batch_size=16, epochs=1, verbose=0)


def test_contrastive_model_saves_and_loads(rng, tmp_path):
    views, labels = make_data(rng)
    model = make_model(num_labels=NUM_LABELS, classification_weight=0.3, queue_size=96)
    model.fit(views, labels, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "contrastive.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(
        loaded.predict(views[:, 0], verbose=0), model.predict(views[:, 0], verbose=0)
    )
    np.testing.assert_array_equal(
        loaded.queue_embeddings.numpy(), model.queue_embeddings.numpy()
    )
    assert isinstance(loaded.contrastive_loss, losses.SimilarityDissimilarityLoss)
    assert loaded.contrastive_loss.temperature == 0.2
    assert loaded.get_config()["queue_size"] == 96
    # Training resumes where it stopped: optimizer state, key encoder and queue
    # came back, so one more epoch moves both models the same way.
    for copy in (model, loaded):
        copy.fit(views, labels, batch_size=16, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(
        loaded.predict(views[:, 0], verbose=0),
        model.predict(views[:, 0], verbose=0),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        loaded.queue_embeddings.numpy(), model.queue_embeddings.numpy(), atol=1e-5
    )


def test_encoder_given_as_a_layer_with_input_shape(rng):
    views, labels = make_data(rng)
    model = ContrastiveModel(
        keras.layers.Dense(8), ProjectionHead(4, ()), input_shape=(NUM_FEATURES,)
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    assert isinstance(model.contrastive_loss, losses.SimilarityDissimilarityLoss)
    assert model.predict(views[:, 0], verbose=0).shape == (len(views), 4)
    kernel = model.encoder.trainable_weights[0].numpy()
    history = model.fit(views, labels, batch_size=16, epochs=10, verbose=0)
    # The layer became the encoder that trains.
    assert history.history["loss"][-1] < 0.95 * history.history["loss"][0]
    assert not np.allclose(model.encoder.trainable_weights[0].numpy(), kernel)


def test_mixed_bfloat16_trains_with_a_float32_projection(rng, restore_policy):
    keras.config.set_dtype_policy("mixed_bfloat16")
    views, labels = make_data(rng)
    model = make_model(num_labels=NUM_LABELS, classification_weight=0.5)
    assert model.encoder.layers[0].compute_dtype == "bfloat16"
    embeddings = model.predict(views[:, 0], verbose=0)
    assert embeddings.dtype == np.float32
    history = model.fit(views, labels, batch_size=16, epochs=10, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < 0.9 * history.history["loss"][0]
    classifier = MultiLabelClassifier(model.encoder, NUM_LABELS, mode="fine_tune")
    classifier.compile(optimizer="adam")
    classifier.fit(views[:, 0], labels, epochs=2, verbose=0)
    assert classifier.predict(views[:, 0], verbose=0).dtype == np.float32


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ContrastiveModel(keras.layers.Dense(4)), "no known input shape"),
        (
            lambda: ContrastiveModel(
                keras.Sequential([keras.Input((3, 4)), keras.layers.Dense(2)])
            ),
            r"features \[B, F\]",
        ),
        (lambda: ContrastiveModel(make_encoder(), num_views=0), "num_views"),
        (lambda: ContrastiveModel(make_encoder(), momentum=1.0), "momentum"),
        (lambda: ContrastiveModel(make_encoder(), queue_size=16), "num_labels"),
        (
            lambda: ContrastiveModel(make_encoder(), classification_weight=-1.0),
            "classification_weight",
        ),
        (lambda: MultiLabelClassifier(make_encoder(), 3, mode="probe"), "mode"),
        (lambda: MultiLabelClassifier(make_encoder(), 0), "num_labels"),
    ],
)
def test_bad_construction_is_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_bad_compile_and_data_are_named(rng):
    model = ContrastiveModel(make_encoder(), num_labels=NUM_LABELS, queue_size=64)
    with pytest.raises(ValueError, match="contrastive loss"):
        model.compile(loss="binary_crossentropy")
    with pytest.raises(ValueError, match="reports its losses"):
        model.compile(metrics=["accuracy"])
    model.compile()
    views, labels = make_data(rng)
    with pytest.raises(ValueError, match=r"multi-hot or sparse \[B, 5\]"):
        model.fit(views, labels[:, :4], epochs=1, verbose=0)
    three_views, _ = make_data(rng, views=3)
    with pytest.raises(ValueError, match="views axis"):
        model.fit(three_views, labels, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="must hold the views"):
        model.fit(views[:, 0], labels, epochs=1, verbose=0)
    classifier = MultiLabelClassifier(make_encoder(), NUM_LABELS)
    classifier.compile()
    with pytest.raises(ValueError, match=r"\[N, 5\]"):
        classifier.tune_thresholds(views[:, 0], labels[:, :2])


def test_linear_probe_freezes_the_encoder_and_fine_tune_scales_its_steps(rng):
    views, labels = make_data(rng)
    moves = {}
    for mode, multiplier in [
        ("linear_probe", 1.0),
        ("fine_tune", 1.0),
        ("fine_tune", 0.1),
    ]:
        keras.utils.set_random_seed(1)
        encoder = make_encoder()
        start = [w.numpy() for w in encoder.trainable_weights]
        classifier = MultiLabelClassifier(
            encoder, NUM_LABELS, mode, encoder_learning_rate_multiplier=multiplier
        )
        classifier.compile(optimizer=keras.optimizers.SGD(0.1))
        classifier.fit(views[:, 0], labels, batch_size=48, epochs=1, verbose=0)
        moves[mode, multiplier] = [
            np.abs(w.numpy() - s) for w, s in zip(encoder.weights, start, strict=True)
        ]
    assert all(not move.any() for move in moves["linear_probe", 1.0])
    # Plain SGD from the same start: one step is the gradient times the rate.
    for full, scaled in zip(
        moves["fine_tune", 1.0], moves["fine_tune", 0.1], strict=True
    ):
        np.testing.assert_allclose(scaled, 0.1 * full, rtol=1e-3, atol=1e-7)


def test_head_starts_from_the_label_frequencies(rng):
    """Where the features say nothing (zero), the probabilities are the
    training frequencies (a label never or always seen: 1e-6 from 0 or 1)
    and the BCE is the labels' mean entropy instead of log 2."""
    labels = (rng.random((4000, 5)) < [0.3, 0.05, 0.01, 0.0, 1.0]).astype("float32")
    frequencies = labels.mean(axis=0)
    silent = keras.Sequential(
        [
            keras.Input((NUM_FEATURES,)),
            keras.layers.Dense(8, kernel_initializer="zeros"),
        ]
    )
    classifier = MultiLabelClassifier(silent, 5)
    inputs = rng.normal(size=(4000, NUM_FEATURES)).astype("float32")
    bce = keras.losses.BinaryCrossentropy()
    assert float(bce(labels, classifier.predict(inputs, verbose=0))) == pytest.approx(
        np.log(2), rel=1e-4
    )
    classifier.start_from_label_frequencies(frequencies)
    probabilities = classifier.predict(inputs, verbose=0)
    np.testing.assert_allclose(
        probabilities[0], np.clip(frequencies, 1e-6, 1 - 1e-6), rtol=1e-4
    )
    # The labels never and always seen add ~0 to the mean over five.
    entropy = -sum(p * np.log(p) + (1 - p) * np.log(1 - p) for p in frequencies[:3]) / 5
    assert float(bce(labels, probabilities)) == pytest.approx(entropy, rel=1e-3)


@pytest.mark.parametrize(
    "frequencies, message",
    [
        (np.full(4, 0.1), r"shape \(5,\); received \(4,\)"),
        (
            np.array([0.1, 0.2, 1.5, 0.0, 0.3]),
            r"\[0, 1\]; received values from 0.0 to 1.5",
        ),
        (np.array([0.1, np.nan, 0.2, 0.0, 0.3]), r"\[0, 1\]; received values from nan"),
    ],
)
def test_bad_label_frequencies_are_named(frequencies, message):
    classifier = MultiLabelClassifier(make_encoder(), 5)
    with pytest.raises(ValueError, match=message):
        classifier.start_from_label_frequencies(frequencies)


def test_thresholds_are_tuned_saved_and_used(rng, tmp_path):
    views, labels = make_data(rng, batch=96)
    classifier = MultiLabelClassifier(make_encoder(), NUM_LABELS, mode="fine_tune")
    classifier.compile(optimizer=keras.optimizers.Adam(0.01))
    classifier.fit(views[:, 0], labels, epochs=20, verbose=0)
    thresholds = classifier.tune_thresholds(views[:, 1], labels)
    assert thresholds.shape == (NUM_LABELS,) and not np.allclose(thresholds, 0.5)
    scores = classifier.predict(views[:, 0], verbose=0)
    np.testing.assert_array_equal(
        classifier.predict_labels(views[:, 0]), (scores >= thresholds).astype("int32")
    )
    path = tmp_path / "classifier.keras"
    classifier.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(views[:, 0], verbose=0), scores)
    np.testing.assert_array_equal(loaded.thresholds.numpy(), thresholds)
    single = classifier.tune_thresholds(views[:, 1], labels, per_label=False)
    assert len(set(single.tolist())) == 1


@pytest.mark.parametrize("form", ["arrays", "dataset"])
def test_invalid_labels_are_refused_before_an_xla_step(form):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 2, 5)).astype("float32")
    doubled = 2.0 * (rng.random((16, 3)) < 0.5).astype("float32")
    encoder = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)])
    models = [
        (ContrastiveModel(encoder, num_views=2), x, losses.SDL()),
        (MultiLabelClassifier(encoder, 3), x[:, 0], "binary_crossentropy"),
    ]
    for model, inputs, loss in models:
        model.compile(optimizer="sgd", loss=loss, jit_compile=True)
        data = {"x": inputs, "y": doubled, "batch_size": 8}
        if form == "dataset":
            data = {"x": tf.data.Dataset.from_tensor_slices((inputs, doubled)).batch(8)}
        with pytest.raises(
            (ValueError, tf.errors.InvalidArgumentError), match="every value 0 or 1"
        ):
            model.fit(**data, epochs=1, verbose=0)
