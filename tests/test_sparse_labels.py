"""The large-label form (`tf.SparseTensor` labels) against the dense form and
NumPy references: every loss, with views, a contrast set and a queue."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from sdl_keras import relations
from sdl_keras.losses.weighted_supcon import weighted_supcon_loss
from sdl_keras.models import ContrastiveModel, ProjectionHead
from tests.conftest import gradient
from tests.reference import reference_loss

pytestmark = pytest.mark.usefixtures("tensorflow_backend")

NUM_LABELS = relations.SPARSE_MIN_LABELS + 76


def zipf_labels(rng, batch, num_labels=NUM_LABELS, empty_rows=1):
    """Multi-hot rows with a few frequent labels and a long tail, so that both
    the dense product and the join carry pairs."""
    frequency = 1.0 / np.arange(1, num_labels + 1) ** 1.2
    frequency /= frequency.sum()
    labels = np.zeros((batch, num_labels), "float32")
    for row in labels[empty_rows:]:
        row[rng.choice(num_labels, rng.integers(1, 9), False, frequency)] = 1.0
    return labels


def sparse(labels):
    return tf.sparse.from_dense(tf.constant(labels))


@pytest.fixture(params=[1, 6, relations.DENSE_LABEL_COLUMNS])
def dense_columns(request, monkeypatch):
    """How many labels take the dense product: 1 sends almost every pair
    through the join."""
    monkeypatch.setattr(relations, "DENSE_LABEL_COLUMNS", request.param)
    return request.param


def test_pair_counts_match_numpy(rng, dense_columns):
    anchors, others = zipf_labels(rng, 40), zipf_labels(rng, 30, empty_rows=3)
    multiplicity = rng.integers(0, 3, size=30).astype("float32")
    pairs = relations.LabelPairs(
        relations.LabelSets(sparse(anchors)),
        relations.LabelSets(sparse(others)),
        multiplicity,
        False,
    )
    counts = multiplicity @ others
    np.testing.assert_array_equal(pairs.sum_over_shared_labels(), anchors @ others.T)
    np.testing.assert_allclose(
        pairs.sum_over_shared_labels(lambda n: 1.0 / (1.0 + n)),
        (anchors / (1.0 + counts)) @ others.T,
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        pairs.sum_over_labels(lambda n: n), anchors @ counts, rtol=1e-6
    )
    itself = relations.LabelSets(sparse(anchors))
    within = relations.LabelPairs(itself, itself, np.ones(40), True)
    np.testing.assert_array_equal(within.sum_over_shared_labels(), anchors @ anchors.T)


@pytest.mark.parametrize("scheme", sorted(relations.SCHEMES))
def test_pair_weights_and_relations_equal_the_dense_form(rng, scheme, dense_columns):
    labels = zipf_labels(rng, 24)
    if scheme == "supcon":
        labels = np.eye(NUM_LABELS, dtype="float32")[rng.integers(0, 5, 24)]
    expected = _dense_form(relations.pair_weights, labels, scheme, 2)
    np.testing.assert_allclose(
        relations.pair_weights(sparse(labels), scheme, 2), expected, atol=1e-6
    )
    np.testing.assert_array_equal(
        relations.relation_matrix(sparse(labels)),
        _dense_form(relations.relation_matrix, labels),
    )


@pytest.mark.parametrize("scheme", ["sdl", "mulsupcon", "jaccard", "all", "any"])
@pytest.mark.parametrize("views", [1, 2])
def test_losses_equal_the_dense_form_and_the_reference(
    rng, scheme, views, dense_columns
):
    labels = zipf_labels(rng, 16)
    embeddings = rng.normal(size=(16, views, 6)).astype("float32")
    losses, has_positive = weighted_supcon_loss(sparse(labels), embeddings, scheme)
    dense_losses, dense_has_positive = _dense_form(
        weighted_supcon_loss, labels, embeddings, scheme
    )
    np.testing.assert_allclose(losses, dense_losses, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(has_positive, dense_has_positive)
    expected, expected_has_positive = reference_loss(labels, embeddings, scheme, 0.07)
    np.testing.assert_allclose(losses, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(has_positive, expected_has_positive)


@pytest.mark.parametrize("scheme", ["sdl", "mulsupcon"])
def test_queue_contrast_equals_the_dense_form(rng, scheme, dense_columns):
    labels, queue_labels = zipf_labels(rng, 8), zipf_labels(rng, 10)
    embeddings = rng.normal(size=(8, 2, 5)).astype("float32")
    queue = rng.normal(size=(10, 5)).astype("float32")
    contrast = np.concatenate([np.repeat(labels, 2, 0), queue_labels])
    arguments = dict(
        contrast_embeddings=np.concatenate([embeddings.reshape(16, 5), queue]),
        contrast_mask=np.arange(26) < 23,
        self_offset=0,
        scheme=scheme,
        temperature=0.1,
    )
    losses, _ = weighted_supcon_loss(
        sparse(labels), embeddings, contrast_labels=sparse(contrast), **arguments
    )
    # The queue's own storage: label indices padded with -1.
    indices = relations.padded_label_indices(contrast, 12)
    from_indices, _ = weighted_supcon_loss(
        sparse(labels),
        embeddings,
        contrast_labels=relations.LabelSets.from_padded_indices(indices, NUM_LABELS),
        **arguments,
    )
    dense, _ = _dense_form(
        weighted_supcon_loss, labels, embeddings, contrast_labels=contrast, **arguments
    )
    np.testing.assert_allclose(losses, dense, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(from_indices, dense, rtol=1e-6, atol=1e-6)


def test_gradients_and_xla_equal_the_dense_form(rng):
    labels = zipf_labels(rng, 16)
    embeddings = rng.normal(size=(16, 2, 6)).astype("float32")

    def loss(label_form):
        return lambda z: tf.reduce_mean(weighted_supcon_loss(label_form, z)[0])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(relations, "SPARSE_MIN_LABELS", 10**9)
        expected_value, expected = gradient(loss(labels), embeddings)
    value, actual = gradient(loss(sparse(labels)), embeddings)
    assert value == pytest.approx(expected_value, rel=1e-6)
    np.testing.assert_allclose(actual, expected, atol=1e-6)
    compiled = tf.function(lambda y, z: weighted_supcon_loss(y, z)[0], jit_compile=True)
    np.testing.assert_allclose(
        compiled(sparse(labels), embeddings),
        weighted_supcon_loss(sparse(labels), embeddings)[0],
        rtol=1e-6,
    )


def test_label_indices_round_trip_and_bad_input_is_named():
    indices = np.array([[4, 0, -1], [-1, -1, -1], [2, 1, 3]])
    labels = relations.sparse_labels(indices, 5)
    assert labels.shape == (3, 5)
    np.testing.assert_array_equal(
        tf.sparse.to_dense(labels),
        [[1, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 1, 1, 1, 0]],
    )
    back = relations.padded_label_indices(labels, 3).numpy()
    np.testing.assert_array_equal(np.sort(back, axis=1), np.sort(indices, axis=1))
    with pytest.raises(ValueError, match=r"must lie in \[0, 5\)"):
        relations.sparse_labels([[5, 0]], 5)
    with pytest.raises(ValueError, match="more than max_labels=2"):
        relations.padded_label_indices(labels, 2)
    with pytest.raises(ValueError, match="received class ids"):
        relations.padded_label_indices([0, 3, 1], 2)
    twos = tf.SparseTensor([[0, 1], [1, 1]], [2.0, 1.0], [2, 4])
    with pytest.raises(ValueError, match="ones only"):
        weighted_supcon_loss(twos, np.ones((2, 3), "float32"))
    beyond = tf.SparseTensor([[0, 1], [1, 7]], [1.0, 1.0], [2, 4])
    with pytest.raises(ValueError, match="label index beyond its width"):
        weighted_supcon_loss(beyond, np.ones((2, 3), "float32"))
    encoder = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match="`max_labels` must be an integer ≥ 1"):
        ContrastiveModel(encoder, num_labels=4, queue_size=8, max_labels=0)


@pytest.mark.parametrize("queue_size", [0, 64])
def test_contrastive_model_trains_alike_on_both_forms(rng, queue_size):
    labels = zipf_labels(rng, 32, empty_rows=0)
    views = (labels[:, None, :48] + rng.normal(size=(32, 2, 48))).astype("float32")

    def train(label_dataset):
        keras.utils.set_random_seed(0)
        encoder = keras.Sequential([keras.Input((48,)), keras.layers.Dense(16)])
        model = ContrastiveModel(
            encoder,
            ProjectionHead(8, (16,)),
            num_labels=NUM_LABELS,
            queue_size=queue_size,
            max_labels=8,
            momentum=0.9,
            classification_weight=0.5,
        )
        model.compile(optimizer=keras.optimizers.SGD(0.1))
        data = tf.data.Dataset.zip(
            tf.data.Dataset.from_tensor_slices(views), label_dataset
        ).batch(8)
        model.fit(data, epochs=2, shuffle=False, verbose=0)
        return model

    dense = train(tf.data.Dataset.from_tensor_slices(labels))
    sparse_model = train(tf.data.Dataset.from_tensor_slices(sparse(labels)))
    for expected, actual in zip(
        dense.get_weights(), sparse_model.get_weights(), strict=True
    ):
        np.testing.assert_allclose(actual, expected, atol=1e-5)
    if queue_size:
        # 65,536 keys at 8,922 labels would take 2.3 GB as float32 rows.
        assert tuple(sparse_model.queue_labels.shape) == (64, 8)


def _dense_form(function, *args, **kwargs):
    """`function` with every multi-label input on the dense matmul path."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(relations, "SPARSE_MIN_LABELS", 10**9)
        return keras.ops.convert_to_numpy(function(*args, **kwargs))


def _label_indices(batch_labels) -> list[set]:
    dense = tf.sparse.to_dense(batch_labels).numpy()
    return [set(np.flatnonzero(row)) for row in dense]


def test_pipelines_carry_the_large_label_form(rng):
    from scipy import sparse as scipy_sparse

    from sdl_keras.data import images, text

    labels = zipf_labels(rng, 20)
    texts = [f"note {i} about fever and cough {i % 3}" for i in range(20)]
    tokenizer = text.bag_of_words_tokenizer(texts, 100)
    made = {
        "bag of words": text.bag_of_words_dataset(
            texts, scipy_sparse.csr_matrix(labels), tokenizer, 8, num_views=2,
            large_labels=True,
        ),
        "tokens": text.text_dataset(
            texts, labels, text.vectorization_tokenizer(texts, 100), 16, 8,
            num_views=2, augmentation=text.TextAugmentation(1), large_labels=True,
        ),
        "tokens by length": text.text_dataset(
            texts, labels, text.vectorization_tokenizer(texts, 100), 16, 8,
            bucket_boundaries=[4], large_labels=True,
        ),
        "images": images.image_dataset(
            rng.integers(0, 255, (20, 8, 8, 3)).astype("uint8"), labels, (8, 8), 8,
            large_labels=True,
        ),
    }  # fmt: skip
    expected = sorted(tuple(sorted(np.flatnonzero(row))) for row in labels)
    for name, dataset in made.items():
        seen = []
        for _, batch_labels in dataset:
            assert isinstance(batch_labels, tf.SparseTensor), name
            assert batch_labels.shape[1] == NUM_LABELS, name
            seen += [tuple(sorted(row)) for row in _label_indices(batch_labels)]
        assert sorted(seen) == expected, name


def test_command_line_trains_a_file_with_many_labels(tmp_path):
    from tests.conftest import write_jsonl
    from tests.test_cli import run_cli

    topics = ["fever", "cough", "rash", "pain"]
    rows = []
    for i in range(1_500):
        topic = topics[i % 4]
        codes = [f"T{topic}", f"C{i % 1_100:04d}"]
        rows.append({"text": f"{topic} note {i % 1_100} {topic} case", "labels": codes})
    write_jsonl(tmp_path / "train.jsonl", rows)
    run = tmp_path / "run"
    done = run_cli(
        "train", "--task", "text", "--train-file", tmp_path / "train.jsonl",
        "--pretrain-epochs", "1", "--classifier-epochs", "1", "--queue-size",
        "1024", "--no-linear-blend", "--no-reference", "--output-dir", run,
        "--verbose", "0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    codes = json.loads((run / "labels.json").read_text())["codes"]
    assert len(codes) >= relations.SPARSE_MIN_LABELS
    metrics = json.loads((run / "metrics.json").read_text())
    assert np.isfinite(metrics["sdl"]["tuned"]["micro_f1"])
