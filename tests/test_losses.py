import math

import keras
import numpy as np
import pytest
from keras import ops

from sdl_keras import losses
from sdl_keras.losses.weighted_supcon import weighted_supcon_loss
from tests.conftest import gradient, random_multi_hot
from tests.reference import reference_loss, reference_mean

LOSSES = {
    "supcon": losses.SupConLoss,
    "all": losses.ALLSupConLoss,
    "any": losses.ANYSupConLoss,
    "jaccard": losses.JaccardSupConLoss,
    "mulsupcon": losses.MulSupConLoss,
    "sdl": losses.SimilarityDissimilarityLoss,
}
MULTI_LABEL = [name for name in LOSSES if name != "supcon"]

# (batch, labels, views, density, temperature, unlabelled rows)
CASES = [
    (6, 3, 1, 0.4, 0.07, 0),
    (10, 5, 2, 0.3, 0.1, 1),
    (8, 12, 3, 0.2, 0.5, 0),
    (12, 4, 1, 0.6, 1.0, 2),
    (16, 30, 2, 0.08, 0.05, 0),
]


def case(rng, batch, num_labels, views, density, empty_rows, dim=5):
    labels = random_multi_hot(rng, batch, num_labels, density, empty_rows)
    shape = (batch, dim) if views == 1 else (batch, views, dim)
    return labels, rng.normal(size=shape).astype("float32")


def numpy(x):
    return ops.convert_to_numpy(x)


@pytest.mark.parametrize("scheme", MULTI_LABEL)
@pytest.mark.parametrize("params", CASES)
def test_matches_loop_reference(rng, scheme, params):
    batch, num_labels, views, density, temperature, empty = params
    labels, embeddings = case(rng, batch, num_labels, views, density, empty)
    per_sample = LOSSES[scheme](temperature=temperature, reduction="none")
    expected, _ = reference_loss(labels, embeddings, scheme, temperature)
    np.testing.assert_allclose(
        numpy(per_sample(labels, embeddings)), expected, rtol=2e-5, atol=1e-5
    )
    scalar = LOSSES[scheme](temperature=temperature)(labels, embeddings)
    assert float(scalar) == pytest.approx(
        reference_mean(labels, embeddings, scheme, temperature), rel=2e-5
    )


@pytest.mark.parametrize("views", [1, 2])
def test_supcon_matches_reference_on_class_ids(rng, views):
    ids = rng.integers(0, 4, size=12)
    shape = (12, 6) if views == 1 else (12, views, 6)
    embeddings = rng.normal(size=shape).astype("float32")
    expected, _ = reference_loss(ids, embeddings, "supcon", 0.2)
    result = losses.SupConLoss(temperature=0.2, reduction="none")(ids, embeddings)
    np.testing.assert_allclose(numpy(result), expected, rtol=2e-5, atol=1e-6)


def test_tetrahedron_gives_log_three():
    vertices = np.array(
        [[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], "float32"
    ) / math.sqrt(3)
    embeddings = vertices.reshape(2, 2, 3)
    loss = losses.SupConLoss(temperature=1.0)([0, 1], embeddings)
    assert float(loss) == pytest.approx(1.098612, abs=1e-6)


def test_axis_features_hand_checked():
    e1, e2, e3 = np.eye(3, dtype="float32")
    embeddings = np.array([[e3, e3], [e2, e2], [e1, e1]])
    loss = losses.SupConLoss(temperature=1.0, reduction="none")
    np.testing.assert_allclose(
        numpy(loss([0, 0, 1], embeddings)),
        [1.5714991, 1.5714991, 0.90483244],
        rtol=1e-6,
    )


@pytest.mark.parametrize("scheme", MULTI_LABEL)
def test_every_loss_is_supcon_on_single_label_data(rng, scheme):
    ids = rng.integers(0, 5, size=14)
    embeddings = rng.normal(size=(14, 2, 8)).astype("float32")
    one_hot = np.eye(5, dtype="float32")[ids]
    supcon = losses.SupConLoss(reduction="none")(ids, embeddings)
    np.testing.assert_allclose(
        numpy(LOSSES[scheme](reduction="none")(one_hot, embeddings)),
        numpy(supcon),
        rtol=1e-5,
    )


@pytest.mark.parametrize("scheme", MULTI_LABEL)
def test_permutation_invariance(rng, scheme):
    labels, embeddings = case(rng, 12, 6, 2, 0.3, 1)
    order = rng.permutation(12)
    loss = LOSSES[scheme](reduction="none")
    np.testing.assert_allclose(
        numpy(loss(labels[order], embeddings[order])),
        numpy(loss(labels, embeddings))[order],
        rtol=1e-5,
        atol=1e-6,
    )


def test_scale_invariance_of_embeddings(rng):
    labels, embeddings = case(rng, 8, 4, 2, 0.4, 0)
    loss = losses.SDL()
    assert float(loss(labels, 7.5 * embeddings)) == pytest.approx(
        float(loss(labels, embeddings)), rel=1e-5
    )


@pytest.mark.parametrize("scheme", ["sdl", "mulsupcon", "jaccard"])
def test_gradient_matches_finite_differences(rng, scheme):
    labels, embeddings = case(rng, 5, 4, 2, 0.4, 0, dim=3)
    temperature = 0.5
    loss = LOSSES[scheme](temperature=temperature)
    _, grad = gradient(lambda x: loss(labels, x), embeddings)
    step = 1e-6
    numeric = np.zeros_like(embeddings, dtype="float64")
    base = embeddings.astype("float64")
    for index in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[index] += step
        minus[index] -= step
        numeric[index] = (
            reference_mean(labels, plus, scheme, temperature)
            - reference_mean(labels, minus, scheme, temperature)
        ) / (2 * step)
    np.testing.assert_allclose(grad, numeric, rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("scheme", MULTI_LABEL)
def test_no_positive_anywhere_gives_zero_loss_and_zero_gradient(scheme):
    labels = np.eye(4, dtype="float32")
    embeddings = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    value, grad = gradient(lambda x: LOSSES[scheme]()(labels, x), embeddings)
    assert value == 0.0
    assert np.all(np.isfinite(grad)) and not grad.any()


def test_batch_of_one_and_tiny_temperature_stay_finite(rng):
    one = np.ones((1, 3), "float32")
    value, grad = gradient(lambda x: losses.SDL()([[1, 0]], x), one)
    assert value == 0.0 and np.all(grad == 0)
    labels, embeddings = case(rng, 16, 6, 2, 0.3, 1)
    for temperature in (0.01, 0.02):
        value, grad = gradient(
            lambda x, t=temperature: losses.SDL(temperature=t)(labels, x), embeddings
        )
        assert math.isfinite(value) and np.all(np.isfinite(grad))
        assert value == pytest.approx(
            reference_mean(labels, embeddings, "sdl", temperature), rel=1e-4
        )


def test_mean_leaves_out_samples_without_positive():
    labels = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]], "float32")
    embeddings = np.random.default_rng(3).normal(size=(4, 4)).astype("float32")
    per_sample = numpy(losses.SDL(reduction="none")(labels, embeddings))
    assert per_sample[2] == 0.0 and per_sample[3] == 0.0
    assert float(losses.SDL()(labels, embeddings)) == pytest.approx(
        per_sample[:2].mean(), rel=1e-6
    )
    assert float(losses.SDL(reduction="sum")(labels, embeddings)) == pytest.approx(
        per_sample.sum(), rel=1e-6
    )


def test_sample_weight(rng):
    labels, embeddings = case(rng, 8, 4, 2, 0.4, 0)
    weights = rng.random(8).astype("float32")
    per_sample = numpy(losses.SDL(reduction="none")(labels, embeddings))
    weighted = losses.SDL()(labels, embeddings, sample_weight=weights)
    assert float(weighted) == pytest.approx((per_sample * weights).mean(), rel=1e-5)
    normalised = losses.SDL(reduction="mean_with_sample_weight")(
        labels, embeddings, sample_weight=weights
    )
    assert float(normalised) == pytest.approx(
        (per_sample * weights).sum() / weights.sum(), rel=1e-5
    )


@pytest.mark.parametrize("shape", [(4,), (4, 1)])
def test_every_reduction_weighs_and_leaves_out_anchors_without_positive(shape):
    labels = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0]], "float32")
    embeddings = np.random.default_rng(4).normal(size=(4, 4)).astype("float32")
    weights = np.array([0.5, 2.0, 3.0, 1.5], "float32")
    per_sample = numpy(losses.SDL(reduction="none")(labels, embeddings))
    counted = np.array([1.0, 1.0, 0.0, 1.0])  # sample 2 has no positive
    weighted = per_sample * weights
    expected = {
        "none": weighted,
        "sum": weighted.sum(),
        "sum_over_batch_size": weighted.sum() / counted.sum(),
        "mean": weighted.sum() / counted.sum(),
        "mean_with_sample_weight": weighted.sum() / (weights * counted).sum(),
    }
    for reduction, value in expected.items():
        result = losses.SDL(reduction=reduction)(
            labels, embeddings, sample_weight=weights.reshape(shape)
        )
        np.testing.assert_allclose(numpy(result), value, rtol=1e-5, err_msg=reduction)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16", "bfloat16"])
def test_math_stays_float32_under_any_policy(rng, policy, restore_policy):
    labels, embeddings = case(rng, 10, 5, 2, 0.3, 0)
    expected = reference_mean(labels, embeddings, "sdl", 0.07)
    keras.config.set_dtype_policy(policy)
    loss = losses.SDL()
    half = ops.cast(embeddings, "bfloat16" if "bfloat" in policy else "float16")
    value = loss(labels, half)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    # Only the rounding of the inputs differs from the float32 reference.
    rounded = numpy(ops.cast(half, "float32"))
    assert float(value) == pytest.approx(
        reference_mean(labels, rounded, "sdl", 0.07), rel=1e-5
    )
    assert float(value) == pytest.approx(expected, rel=5e-2)


def test_loss_dtype_rounds_only_the_result(rng):
    # Class ids above 256 are not representable in bfloat16.
    ids = np.array([1001, 1002, 1001, 1003, 1002, 1003])
    embeddings = rng.normal(size=(6, 4)).astype("float32")
    value = losses.SupConLoss(dtype="bfloat16")(ids, embeddings)
    assert keras.backend.standardize_dtype(value.dtype) == "bfloat16"
    expected = reference_mean(ids, embeddings, "supcon", 0.07)
    assert float(value) == pytest.approx(expected, rel=1e-2)


@pytest.mark.parametrize(
    ("labels", "embeddings", "message"),
    [
        ([[1, 2], [0, 1]], np.ones((2, 3)), "0 or 1"),
        ([[1, 0], [0, 1], [1, 1]], np.ones((2, 3)), "same batch size"),
        ([[1, 0], [0, 1]], np.ones((2, 2, 2, 2)), "rank 2 or 3"),
        ([[[1]], [[0]]], np.ones((2, 3)), "rank 1 or 2"),
        ([[1, 0], [1, 1]], [[np.nan, 1.0], [1.0, 0.0]], "NaN or Inf"),
        ([[1, 0], [1, 1]], [[np.inf, 1.0], [1.0, 0.0]], "NaN or Inf"),
    ],
)
def test_bad_input_is_named(labels, embeddings, message):
    with pytest.raises(ValueError, match=message):
        losses.SDL()(np.asarray(labels, "float32"), np.asarray(embeddings, "float32"))


@pytest.mark.parametrize("temperature", [0.0, -0.1, float("nan"), "warm"])
def test_bad_temperature(temperature):
    with pytest.raises(ValueError, match="temperature"):
        losses.SDL(temperature=temperature)


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction"):
        losses.SDL(reduction="median")


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_config_round_trip(name):
    loss = LOSSES[name](temperature=0.2, reduction="sum", name="contrastive")
    config = loss.get_config()
    assert config["temperature"] == 0.2 and config["reduction"] == "sum"
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is LOSSES[name]
    assert restored.get_config() == config


@keras.saving.register_keras_serializable(package="sdl_keras_tests")
def shared_label_count(stats):
    return stats.intersection


def test_custom_scheme_round_trip(rng):
    loss = losses.WeightedSupConLoss(shared_label_count, temperature=0.3)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    labels, embeddings = case(rng, 6, 3, 1, 0.5, 0)
    assert float(restored(labels, embeddings)) == pytest.approx(
        float(loss(labels, embeddings))
    )
    assert losses.SDL is losses.SimilarityDissimilarityLoss


@pytest.mark.parametrize("scheme", MULTI_LABEL)
def test_queue_contrast_matches_reference(rng, scheme):
    labels, embeddings = case(rng, 8, 6, 2, 0.3, 1)
    queue_labels = random_multi_hot(rng, 10, 6, 0.3, empty_rows=1)
    queue = rng.normal(size=(10, 5)).astype("float32")
    filled = np.arange(10) < 7
    # Rows are sample-major, as the loss flattens its views.
    rows = embeddings.reshape(16, 5)
    losses, has_positive = weighted_supcon_loss(
        labels,
        embeddings,
        scheme,
        0.1,
        contrast_labels=np.concatenate([np.repeat(labels, 2, 0), queue_labels]),
        contrast_embeddings=np.concatenate([rows, queue]),
        contrast_mask=np.concatenate([np.ones(16, bool), filled]),
        self_offset=0,
    )
    expected, expected_mask = reference_loss(
        labels, embeddings, scheme, 0.1, queue=(queue_labels[:7], queue[:7])
    )
    np.testing.assert_allclose(numpy(losses), expected, rtol=2e-5, atol=1e-5)
    np.testing.assert_array_equal(numpy(has_positive), expected_mask)


@pytest.mark.parametrize("scheme", ["sdl", "mulsupcon", "supcon"])
def test_shards_against_the_gathered_batch_equal_the_full_batch(rng, scheme):
    labels, embeddings = case(rng, 12, 5, 2, 0.3, 1)
    if scheme == "supcon":
        labels = rng.integers(0, 3, size=12)
    full, _ = weighted_supcon_loss(labels, embeddings, scheme, 0.2)
    for shard in range(3):
        rows = slice(4 * shard, 4 * shard + 4)
        local, _ = weighted_supcon_loss(
            labels[rows],
            embeddings[rows],
            scheme,
            0.2,
            contrast_labels=labels,
            contrast_embeddings=embeddings,
            self_offset=4 * shard * 2,
        )
        np.testing.assert_allclose(numpy(local), numpy(full)[rows], rtol=1e-5)


def test_contrast_set_errors(rng):
    labels, embeddings = case(rng, 4, 3, 1, 0.5, 0)
    with pytest.raises(ValueError, match="go together"):
        weighted_supcon_loss(labels, embeddings, contrast_labels=labels)
    with pytest.raises(ValueError, match="same size"):
        weighted_supcon_loss(
            labels,
            embeddings,
            contrast_labels=labels,
            contrast_embeddings=embeddings[:, :3],
        )
    with pytest.raises(ValueError, match="same number of labels"):
        weighted_supcon_loss(
            labels,
            embeddings,
            contrast_labels=labels[:, :2],
            contrast_embeddings=embeddings,
        )
    with pytest.raises(ValueError, match="same batch size"):
        weighted_supcon_loss(
            labels,
            embeddings,
            contrast_labels=labels[:3],
            contrast_embeddings=embeddings,
        )


@pytest.mark.parametrize("name", list(LOSSES))
def test_large_class_ids_are_compared_as_integers(name, rng):
    # Neighbouring ids above 2^24 are equal in float32; they must not merge.
    base = 2**24
    small = np.array([0, 1, 0, 2, 1, 2], "int64")
    embeddings = rng.normal(size=(6, 4)).astype("float32")
    loss = LOSSES[name](temperature=0.2)
    expected = numpy(loss(small, embeddings))
    np.testing.assert_allclose(numpy(loss(small + base, embeddings)), expected, 1e-6)
    from sdl_keras.relations import relation_matrix

    codes = numpy(relation_matrix(np.array([base, base + 1, base], "int64")))
    assert codes.tolist() == [[2, 1, 2], [1, 2, 1], [2, 1, 2]]


@pytest.mark.parametrize("scale", [1e-30, 1e-20, 1e-10, 1.0, 1e10, 1e20, 1e30])
def test_loss_is_scale_invariant_at_any_magnitude(scale, rng):
    labels, embeddings = case(rng, 8, 4, 2, 0.4, 1)
    loss = losses.SDL(temperature=0.1)
    expected = numpy(loss(labels, embeddings))
    zeros = numpy(loss(labels, np.zeros_like(embeddings)))
    assert not np.isclose(expected, zeros)
    scaled = (embeddings.astype("float64") * scale).astype("float32")
    np.testing.assert_allclose(numpy(loss(labels, scaled)), expected, rtol=1e-5)


def test_projection_head_normalises_at_any_magnitude():
    from sdl_keras.losses.weighted_supcon import l2_normalize

    vectors = np.array([[3e20, 4e20], [3e-25, -4e-25], [0.0, 0.0]], "float32")
    np.testing.assert_allclose(
        numpy(l2_normalize(vectors)), [[0.6, 0.8], [0.6, -0.8], [0.0, 0.0]], 1e-6
    )


@pytest.mark.parametrize(
    "labels",
    [
        np.array([[2.0, 0, 2], [0, 2, 0], [2, 2, 0], [0, 0, 2]]),
        np.array([[np.nan, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]]),
        np.array([1.0, -1.0, 1.0, 0.0]),
    ],
    ids=["doubled", "nan", "negative id"],
)
@pytest.mark.tensorflow_only
def test_invalid_labels_never_give_a_finite_loss_under_xla(labels, rng):
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip("XLA through tf.function")
    embeddings = rng.normal(size=(4, 3)).astype("float32")
    loss = losses.SDL()
    compiled = tf.function(lambda y, e: loss(y, e), jit_compile=True)
    assert not np.isfinite(float(compiled(labels.astype("float32"), embeddings)))
    with pytest.raises(ValueError, match="y_true"):
        loss(labels.astype("float32"), embeddings)
