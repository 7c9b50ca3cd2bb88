"""The neighbours' part of the default recipe: label scores of the nearest
training examples, blended by validation, saved and loaded with the
classifier."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sdl_keras import neighbour_blend
from sdl_keras.models import NeighbourLabels
from sdl_keras.models._encoders import feature_dim
from sdl_keras.run_config import RunConfig
from sdl_keras.tabular_task import TabularTask
from sdl_keras.two_stage import Split, train_two_stage

pytestmark = pytest.mark.usefixtures("tensorflow_backend")
ROOT = Path(__file__).resolve().parents[1]


def _nearest_labels(keys, labels, queries, k):
    """The formula, one query at a time: the mean labels of the k stored rows
    of highest cosine similarity."""
    scores = []
    for query in queries:
        similarity = [
            float(query @ key) / (np.linalg.norm(query) * np.linalg.norm(key))
            for key in keys
        ]
        nearest = np.argsort(similarity)[::-1][:k]
        scores.append(labels[nearest].mean(axis=0))
    return np.array(scores)


def test_neighbour_labels_are_the_mean_labels_of_the_nearest_keys():
    rng = np.random.default_rng(0)
    keys = rng.normal(size=(40, 6)) * rng.uniform(0.1, 10.0, (40, 1))
    labels = (rng.random((40, 5)) < 0.3).astype("float32")
    queries = rng.normal(size=(7, 6))
    layer = NeighbourLabels(40, 6, 5, k=4)
    layer.store(keys, labels)
    assert layer.key_labels.dtype == "uint8"  # a byte a label where it is saved
    np.testing.assert_allclose(
        np.asarray(layer(queries.astype("float32"))),
        _nearest_labels(keys, labels, queries, 4),
        atol=1e-6,
    )
    # Batched scoring gives the same rows.
    np.testing.assert_allclose(
        neighbour_blend.neighbour_scores(layer, queries),
        np.asarray(layer(queries.astype("float32"))),
    )


def test_neighbour_labels_name_bad_arguments():
    with pytest.raises(ValueError, match="`k` \\(5\\) must not exceed"):
        NeighbourLabels(4, 2, 3, k=5)
    layer = NeighbourLabels(4, 2, 3, k=2)
    with pytest.raises(ValueError, match="`labels` must have shape \\(4, 3\\)"):
        layer.store(np.ones((4, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="`embeddings` must have shape \\(4, 2\\)"):
        layer.store(np.ones((3, 2)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="`labels` must be multi-hot"):
        layer.store(np.ones((4, 2)), np.full((4, 3), 0.5))
    import keras

    from sdl_keras.models import MultiLabelClassifier

    encoder = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    classifier = MultiLabelClassifier(encoder, num_labels=3)
    with pytest.raises(ValueError, match="encoder's features \\(2\\) and 3 labels"):
        classifier.blend_neighbours(NeighbourLabels(4, 2, 4, k=2), 0.5)
    with pytest.raises(ValueError, match="`neighbour_weight` must be in \\[0, 1\\]"):
        classifier.blend_neighbours(layer, 1.5)


def test_replaced_or_removed_parts_leave_no_variables_behind(tmp_path):
    import keras

    from sdl_keras.models import MultiLabelClassifier

    rng = np.random.default_rng(0)
    encoder = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    classifier = MultiLabelClassifier(encoder, num_labels=3)
    alone = [variable.path for variable in classifier.weights]

    def stored(count):
        layer = NeighbourLabels(count, 2, 3, k=2)
        layer.store(rng.normal(size=(count, 2)), rng.random((count, 3)) < 0.5)
        return layer

    def linear_model():
        return keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])

    classifier.blend_neighbours(stored(400), 0.5)
    classifier.blend_neighbours(stored(300), 0.5)  # a refit replaces the store
    classifier.blend_linear(linear_model(), 0.5)
    classifier.blend_linear(linear_model(), 0.3)
    assert len(classifier.weights) == len(alone) + 2 + 2
    assert classifier.neighbours.keys.shape == (300, 2)
    classifier.remove_neighbours()
    classifier.blend_linear(linear_model(), 0.0)
    assert len(classifier.weights) == len(alone) + 2
    # The saved file holds the classifier and the current linear model only.
    classifier.save(tmp_path / "classifier.keras")
    loaded = keras.saving.load_model(tmp_path / "classifier.keras")
    assert len(loaded.weights) == len(classifier.weights)
    assert (tmp_path / "classifier.keras").stat().st_size < 30_000
    # Removed, the linear model leaves the weights, the output and the file.
    inputs = rng.normal(size=(4, 5)).astype("float32")
    classifier.blend_linear(classifier.linear_model, 0.5)
    blended = keras.ops.convert_to_numpy(classifier(inputs))
    classifier.remove_linear()
    assert [variable.path for variable in classifier.weights] == alone
    assert (classifier.linear_model, classifier.linear_weight) == (None, 0.0)
    alone_output = keras.ops.convert_to_numpy(classifier(inputs))
    assert not np.allclose(alone_output, blended)
    classifier.save(tmp_path / "alone.keras")
    loaded = keras.saving.load_model(tmp_path / "alone.keras")
    assert loaded.linear_model is None
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(inputs)), alone_output, rtol=1e-6
    )


def _clustered_splits(rng):
    """Twelve tight clusters, each with a set of labels of its own: what the
    nearest training examples know at once and a briefly trained head does
    not."""
    centres = rng.normal(0.0, 3.0, (12, 8))
    label_sets = (rng.random((12, 6)) < 0.35).astype("float32")
    label_sets[:, 0] = 1 - label_sets[:, 1]  # every cluster has a label

    def split(count):
        cluster = rng.integers(0, 12, count)
        x = centres[cluster] + rng.normal(0.0, 0.3, (count, 8))
        return Split(x.astype("float32"), label_sets[cluster])

    return split(600), split(200)


def _trained(train, validation):
    pipeline = TabularTask.build(train.x)
    config = RunConfig(task="tabular", loss="none", classifier_epochs=1)
    classifier = train_two_stage(
        train=train, validation=validation, config=config, **pipeline.run_arguments()
    ).classifier
    return classifier, pipeline


def test_neighbours_blend_in_where_validation_prefers_them_and_load_fresh(tmp_path):
    train, validation = _clustered_splits(np.random.default_rng(0))
    classifier, pipeline = _trained(train, validation)
    own = classifier.predict(validation.x, verbose=0)
    chosen = neighbour_blend.fit_neighbour_blend(
        classifier, pipeline, train, validation
    )
    share = chosen["neighbour_weight"]
    assert share > 0
    assert (
        chosen["validation_map"]["neighbours"] > chosen["validation_map"]["classifier"]
    )
    # The blend is the formula's: neighbours on the encoder's features.
    encode = classifier.encoder.predict
    nearest = _nearest_labels(
        encode(train.x, verbose=0), train.y, encode(validation.x, verbose=0), 10
    )
    blended = classifier.predict(validation.x, verbose=0)
    np.testing.assert_allclose(blended, (1 - share) * own + share * nearest, atol=1e-5)
    # One pass over a labelled dataset gives both, in order, blend included.
    features, probabilities = neighbour_blend.features_and_probabilities(
        classifier, pipeline.make_dataset(validation, "evaluate", 0)
    )
    np.testing.assert_allclose(features, encode(validation.x, verbose=0), atol=1e-5)
    np.testing.assert_allclose(probabilities, blended, atol=1e-6)
    # A fresh interpreter loads the saved classifier with its neighbours.
    path = tmp_path / "classifier.keras"
    classifier.save(path)
    np.save(tmp_path / "x.npy", validation.x)
    done = subprocess.run(
        [
            sys.executable, "-c",
            "import sys, keras, numpy as np, sdl_keras\n"
            "model = keras.saving.load_model(sys.argv[1])\n"
            "print(model.neighbour_weight)\n"
            "np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))",
            path, tmp_path / "x.npy", tmp_path / "loaded.npy",
        ],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout.split()[-1]) == share
    np.testing.assert_allclose(np.load(tmp_path / "loaded.npy"), blended, atol=1e-6)


def test_useless_or_oversized_neighbours_are_not_stored(monkeypatch):
    rng = np.random.default_rng(1)
    train, validation = _clustered_splits(rng)
    classifier, pipeline = _trained(train, validation)
    own = classifier.predict(validation.x, verbose=0)
    thresholds = np.asarray(classifier.thresholds)
    # Neighbours that carry other examples' labels score noise: share 0.
    shuffled = Split(train.x, train.y[rng.permutation(len(train.y))])
    chosen = neighbour_blend.fit_neighbour_blend(
        classifier, pipeline, shuffled, validation
    )
    assert chosen["neighbour_weight"] == 0.0
    assert classifier.neighbours is None
    # Fitted again after a blend, they are weighed against the classifier
    # alone, not against the blend.
    blend = neighbour_blend.fit_neighbour_blend(classifier, pipeline, train, validation)
    assert blend["neighbour_weight"] > 0
    again = neighbour_blend.fit_neighbour_blend(
        classifier, pipeline, shuffled, validation
    )
    assert again["validation_map"] == chosen["validation_map"]
    assert classifier.neighbour_weight == 0.0
    assert classifier.neighbours is None  # nothing stored at share 0
    np.testing.assert_allclose(classifier.predict(validation.x, verbose=0), own)
    # ... and the thresholds are the classifier's own again.
    np.testing.assert_allclose(np.asarray(classifier.thresholds), thresholds)
    # Features as float32, labels a byte each: one byte over, no blend.
    stored = len(train.y) * (4 * feature_dim(classifier.encoder) + train.y.shape[1])
    monkeypatch.setattr(neighbour_blend, "MAX_STORED_BYTES", stored - 1)
    assert (
        neighbour_blend.fit_neighbour_blend(classifier, pipeline, train, validation)
        == {}
    )
