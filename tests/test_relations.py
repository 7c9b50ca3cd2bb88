import numpy as np
import pytest
from keras import ops

from sdl_keras import relations
from tests.conftest import random_multi_hot
from tests.reference import label_sets, pair_weight, relation

# One anchor S = {0, 1} against one sample of each relation.
ANCHOR = [1, 1, 0, 0]
CRAFTED = {
    1: [0, 0, 1, 0],  # R1 disjoint
    2: [1, 1, 0, 0],  # R2 equal
    3: [0, 1, 1, 0],  # R3 partial overlap
    4: [1, 0, 0, 0],  # R4 T ⊊ S
    5: [1, 1, 1, 1],  # R5 S ⊊ T
}
# Hand-computed weight of the anchor's pair with each crafted sample.
CRAFTED_WEIGHTS = {
    "any": {1: 0.0, 2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0},
    "all": {1: 0.0, 2: 1.0, 3: 0.0, 4: 0.0, 5: 0.0},
    "jaccard": {1: 0.0, 2: 1.0, 3: 1 / 3, 4: 1 / 2, 5: 1 / 2},
    # K^s · K^d: R3 (1/2)(1/2), R4 (1/2)(1), R5 (1)(1/3)
    "sdl": {1: 0.0, 2: 1.0, 3: 0.25, 4: 0.5, 5: 1 / 3},
    # The ablations: each factor alone, and Jaccard / (1 + |S Δ T|).
    "similarity_only": {1: 0.0, 2: 1.0, 3: 0.5, 4: 0.5, 5: 1.0},
    "dissimilarity_only": {1: 0.0, 2: 1.0, 3: 0.5, 4: 1.0, 5: 1 / 3},
    "symmetric": {1: 0.0, 2: 1.0, 3: (1 / 3) / 3, 4: (1 / 2) / 2, 5: (1 / 2) / 3},
}


ABLATIONS = ("similarity_only", "dissimilarity_only", "symmetric")


def crafted_batch():
    return np.array([ANCHOR] + [CRAFTED[r] for r in range(1, 6)], "float32")


def test_crafted_relations():
    codes = ops.convert_to_numpy(relations.relation_matrix(crafted_batch()))
    assert codes[0].tolist() == [2, 1, 2, 3, 4, 5]
    # The relation seen from the other side swaps subset and superset.
    assert codes[4, 0] == relations.R5_SUPERSET
    assert codes[5, 0] == relations.R4_SUBSET


@pytest.mark.parametrize("scheme", sorted(CRAFTED_WEIGHTS))
def test_crafted_weights(scheme):
    weights = ops.convert_to_numpy(relations.pair_weights(crafted_batch(), scheme))
    expected = [CRAFTED_WEIGHTS[scheme][r] for r in range(1, 6)]
    np.testing.assert_allclose(weights[0, 1:], expected, rtol=1e-6)
    assert weights[0, 0] == 1.0


def test_crafted_mulsupcon_weights():
    # Label counts in the batch: label 0 → 4 samples, label 1 → 4; label 2 → 3.
    # The anchor's label-anchors have 3 positives each (one view).
    weights = ops.convert_to_numpy(relations.pair_weights(crafted_batch(), "mulsupcon"))
    expected = {1: 0.0, 2: (1 / 3 + 1 / 3) / 2, 3: (1 / 3) / 2, 4: (1 / 3) / 2}
    expected[5] = expected[2]
    np.testing.assert_allclose(
        weights[0, 1:], [expected[r] for r in range(1, 6)], rtol=1e-6
    )


def test_sdl_weight_is_asymmetric_and_one_only_for_equal_sets():
    weights = ops.convert_to_numpy(relations.pair_weights(crafted_batch(), "sdl"))
    assert weights[0, 5] == pytest.approx(1 / 3)
    assert weights[5, 0] == pytest.approx(1 / 2)
    codes = ops.convert_to_numpy(relations.relation_matrix(crafted_batch()))
    np.testing.assert_array_equal(weights == 1.0, codes == relations.R2_EQUAL)


@pytest.mark.parametrize("density", [0.1, 0.3, 0.6])
@pytest.mark.parametrize("num_labels", [5, 40])
def test_relations_and_weights_match_set_reference(rng, density, num_labels):
    labels = random_multi_hot(rng, 24, num_labels, density, empty_rows=2)
    sets = label_sets(labels)
    codes = ops.convert_to_numpy(relations.relation_matrix(labels))
    expected = [[relation(s, t) for t in sets] for s in sets]
    np.testing.assert_array_equal(codes, expected)
    for scheme in ("any", "all", "jaccard", "sdl", *ABLATIONS):
        weights = ops.convert_to_numpy(relations.pair_weights(labels, scheme))
        expected = [[pair_weight(s, t, scheme) for t in sets] for s in sets]
        np.testing.assert_allclose(weights, expected, rtol=1e-6, atol=1e-7)


def test_factors_match_their_definitions():
    labels = crafted_batch()
    sets = label_sets(labels)
    similarity = ops.convert_to_numpy(relations.similarity_factor(labels))
    dissimilarity = ops.convert_to_numpy(relations.dissimilarity_factor(labels))
    for i, s in enumerate(sets):
        for j, t in enumerate(sets):
            assert similarity[i, j] == pytest.approx(len(s & t) / len(s))
            assert dissimilarity[i, j] == pytest.approx(1 / (1 + len(t - s)))


def test_class_ids_equal_one_hot():
    ids = np.array([3, 0, 3, 7, 0, 5])
    one_hot = np.eye(8, dtype="float32")[ids]
    for scheme in ("supcon", "any", "all", "jaccard", "sdl", "mulsupcon"):
        np.testing.assert_allclose(
            ops.convert_to_numpy(relations.pair_weights(ids, scheme, num_views=2)),
            ops.convert_to_numpy(relations.pair_weights(one_hot, scheme, num_views=2)),
            rtol=1e-6,
        )


def test_unlabelled_sample_is_never_a_positive():
    labels = np.array([[0, 0, 0], [1, 0, 0], [1, 0, 0]], "float32")
    for scheme in ("any", "all", "jaccard", "sdl", "mulsupcon"):
        weights = ops.convert_to_numpy(relations.pair_weights(labels, scheme, 2))
        assert not weights[0].any() and not weights[:, 0].any()


def test_many_labels_are_counted_as_entries_with_the_same_result(
    rng, tensorflow_backend
):
    num_labels = relations.SPARSE_MIN_LABELS + 76
    labels = random_multi_hot(rng, 32, num_labels, 8 / num_labels, empty_rows=1)
    label_sets_ = relations.LabelSets(labels)
    assert label_sets_.entries is not None and label_sets_.multi_hot is None
    pairs = relations.LabelPairs(label_sets_, label_sets_, np.ones(32), True)
    np.testing.assert_allclose(
        ops.convert_to_numpy(pairs.sum_over_shared_labels()), labels @ labels.T
    )
    counts = labels.sum(0)
    np.testing.assert_allclose(
        ops.convert_to_numpy(pairs.sum_over_shared_labels(lambda n: n)),
        (labels * counts) @ labels.T,
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="0 or 1"):
        relations.LabelSets(labels * 2.0)


def test_custom_weight_function():
    def overlap_count(stats):
        return stats.intersection

    weights = relations.pair_weights(crafted_batch(), overlap_count)
    np.testing.assert_allclose(ops.convert_to_numpy(weights)[0], [2, 0, 2, 1, 1, 2])


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([[0, 2], [1, 0]], "0 or 1"),
        ([[0.5, 1], [1, 0]], "0 or 1"),
        ([[np.nan, 1], [1, 0]], "0 or 1"),
        ([1, -1], "non-negative integers"),
        ([1.5, 2], "non-negative integers"),
        (np.zeros((2, 2, 2)), "rank 1 or 2"),
    ],
)
def test_bad_labels_are_named(labels, message):
    with pytest.raises(ValueError, match=message):
        relations.pair_weights(np.asarray(labels, "float32"), "sdl")


def test_bad_scheme_and_views():
    with pytest.raises(ValueError, match="Unknown weight scheme"):
        relations.pair_weights(crafted_batch(), "cosine")
    with pytest.raises(ValueError, match="num_views"):
        relations.pair_weights(crafted_batch(), "sdl", num_views=0)
    with pytest.raises(ValueError, match="single-label"):
        relations.pair_weights(crafted_batch(), "supcon")
