"""Metrics against scikit-learn (and a loop for precision@k) on random data."""

import numpy as np
import pytest
from sklearn import metrics as skm

from sdl_keras import metrics
from tests.conftest import random_multi_hot


@pytest.fixture
def data(rng):
    y = random_multi_hot(rng, 60, 9, 0.3)
    y[:, 7] = 0.0  # a label without positives
    y[:, 8] = 1.0  # and one without negatives
    # Rounded scores make ties, which every metric must handle like sklearn.
    scores = np.round(rng.random(y.shape) * 0.6 + 0.4 * y, 1)
    return y, scores


@pytest.mark.parametrize("average", ["micro", "macro"])
def test_f1_matches_sklearn(data, average):
    y, scores = data
    predictions = scores >= 0.5
    expected = skm.f1_score(y, predictions, average=average, zero_division=0)
    assert metrics.f1(y, predictions, average) == pytest.approx(expected)


def test_roc_auc_matches_sklearn(data):
    y, scores = data
    defined = [0, 1, 2, 3, 4, 5, 6]
    expected = skm.roc_auc_score(y[:, defined], scores[:, defined], average="macro")
    assert metrics.roc_auc(y, scores, "macro") == pytest.approx(expected)
    micro = skm.roc_auc_score(y, scores, average="micro")
    assert metrics.roc_auc(y, scores, "micro") == pytest.approx(micro)


def test_average_precision_matches_sklearn(data):
    y, scores = data
    per_label = metrics.average_precision(y, scores)
    for label in range(7):
        assert per_label[label] == pytest.approx(
            skm.average_precision_score(y[:, label], scores[:, label])
        )
    assert np.isnan(per_label[7]) and per_label[8] == pytest.approx(1.0)
    expected = np.mean(
        [
            skm.average_precision_score(y[:, j], scores[:, j])
            for j in (0, 1, 2, 3, 4, 5, 6, 8)
        ]
    )
    assert metrics.mean_average_precision(y, scores) == pytest.approx(expected)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_precision_at_k_matches_a_loop(rng, k):
    y = random_multi_hot(rng, 40, 12, 0.25)
    scores = rng.random(y.shape)
    expected = np.mean(
        [sum(y[i, j] for j in np.argsort(-scores[i])[:k]) / k for i in range(len(y))]
    )
    assert metrics.precision_at_k(y, scores, k) == pytest.approx(expected)
    keras_metric = metrics.PrecisionAtK(k)
    keras_metric.update_state(y[:25], scores[:25])
    keras_metric.update_state(y[25:], scores[25:])
    assert float(keras_metric.result()) == pytest.approx(expected, rel=1e-6)


def test_best_threshold_maximises_f1(data):
    y, scores = data
    grid = np.linspace(0.01, 0.99, 99)
    best = metrics.best_threshold(y, scores)
    micro = [
        skm.f1_score(y, scores >= t, average="micro", zero_division=0) for t in grid
    ]
    assert skm.f1_score(y, scores >= best, average="micro") == pytest.approx(max(micro))
    per_label = metrics.best_threshold(y, scores, per_label=True)
    assert per_label.shape == (9,) and per_label[7] == best
    for label in range(7):
        f1s = [
            skm.f1_score(y[:, label], scores[:, label] >= t, zero_division=0)
            for t in grid
        ]
        achieved = skm.f1_score(y[:, label], scores[:, label] >= per_label[label])
        assert achieved == pytest.approx(max(f1s))


def test_tuned_thresholds_count_as_comparing_every_score_with_every_threshold(rng):
    y = random_multi_hot(rng, 80, 11, 0.3).astype(bool)
    y[:, 3] = False
    # Scores on the grid's own values make ties at the thresholds.
    scores = np.round(rng.random(y.shape) * 0.7 + 0.3 * y, 2)
    grid = np.linspace(0.01, 0.99, 99)
    predicted = scores[None] >= grid[:, None, None]  # [T, N, L]
    tp = (y & predicted).sum(1)
    fp = (~y & predicted).sum(1)
    fn = (y & ~predicted).sum(1)
    micro = 2 * tp.sum(1) / (2 * tp.sum(1) + fp.sum(1) + fn.sum(1))
    with np.errstate(invalid="ignore"):
        per = np.nan_to_num(2 * tp / (2 * tp + fp + fn))
    groups = np.array([0, 1, 1, 0, 2, 2, 2, 1, 0, 3, 2])
    best, per_label, pooled = metrics.multilabel._tuned_thresholds(
        y, scores, grid, groups
    )
    assert best == grid[np.argmax(micro)]
    expected = np.where(y.any(0), grid[np.argmax(per, axis=0)], best)
    np.testing.assert_array_equal(per_label, expected)
    for label, group in enumerate(groups):
        members = groups == group
        group_tp = tp[:, members].sum(1)
        group_errors = fp[:, members].sum(1) + fn[:, members].sum(1)
        pooled_micro = 2 * group_tp / (2 * group_tp + group_errors)
        want = grid[np.argmax(pooled_micro)] if group else best
        assert pooled[label] == want


def test_best_threshold_candidates_in_any_order(data):
    y, scores = data
    candidates = [0.7, 0.3, 0.5, 0.3, 0.1, 0.9]
    assert metrics.best_threshold(y, scores, candidates=candidates) == (
        metrics.best_threshold(y, scores, candidates=sorted(set(candidates)))
    )
    # Every candidate below the lowest score predicts the same: the lowest wins.
    assert metrics.best_threshold(y, scores + 1.0, candidates=[0.9, 0.2, 0.5]) == 0.2
    for bad in ([], [0.5, np.nan], [[0.5]]):
        with pytest.raises(ValueError, match="`candidates`"):
            metrics.best_threshold(y, scores, candidates=bad)


def test_best_threshold_memory_does_not_grow_with_the_grid(rng):
    import tracemalloc

    y = random_multi_hot(rng, 400, 5000, 0.01)
    scores = rng.random(y.shape).astype("float32")
    tracemalloc.start()
    metrics.best_threshold(y, scores, per_label=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Comparing every score with 99 thresholds at once would hold 198 MB of
    # booleans; the inputs as float64 are 16 MB each.
    assert peak < 100e6


def test_frequency_bands_and_report(data):
    y, scores = data
    counts = np.array([50, 40, 30, 20, 10, 5, 3, 0, 60])
    bands, edges = metrics.frequency_bands(counts, edges=(10, 35))
    assert edges == (10.0, 35.0)
    assert bands.tolist() == [
        "head",
        "head",
        "medium",
        "medium",
        "medium",
        "tail",
        "tail",
        "tail",
        "head",
    ]
    report = metrics.multilabel_report(
        y, scores, 0.5, counts, ks=(1, 3), edges=(10, 35)
    )
    assert report["band_edges"] == {"tail_below": 10.0, "head_from": 35.0}
    assert report["labels_without_positives"] == 1
    assert report["labels_without_negatives"] == 1
    assert report["micro_f1"] == pytest.approx(
        skm.f1_score(y, scores >= 0.5, average="micro")
    )
    head = np.flatnonzero(bands == "head")
    assert report["bands"]["head"]["num_labels"] == 3
    assert report["bands"]["head"]["macro_f1"] == pytest.approx(
        skm.f1_score(
            y[:, head], scores[:, head] >= 0.5, average="macro", zero_division=0
        )
    )
    tail = report["bands"]["tail"]
    assert tail["labels_without_positives"] == 1
    default_bands, default_edges = metrics.frequency_bands(counts)
    assert default_edges == pytest.approx(tuple(np.quantile(counts, [1 / 3, 2 / 3])))
    assert sorted(set(default_bands)) == ["head", "medium", "tail"]


def test_bad_input_is_named(data):
    y, scores = data
    with pytest.raises(ValueError, match="multi-hot"):
        metrics.roc_auc(y * 2, scores)
    with pytest.raises(ValueError, match="shape"):
        metrics.precision_at_k(y, scores[:, :3], 1)
    with pytest.raises(ValueError, match="NaN"):
        metrics.mean_average_precision(y, np.where(y > 0, np.nan, scores))
    with pytest.raises(ValueError, match="`k`"):
        metrics.precision_at_k(y, scores, 10)
    with pytest.raises(ValueError, match="label_counts"):
        metrics.multilabel_report(y, scores, label_counts=[1, 2])
    for bad in ([-1.0], [], [np.nan]):
        with pytest.raises(ValueError, match="shrinkages"):
            metrics.threshold_shrinkage(y, scores, shrinkages=bad)
    for bad in ([], [0, 3], [3, 1], [1, np.inf]):
        with pytest.raises(ValueError, match="bands"):
            metrics.best_threshold(y, scores, per_label=None, bands=bad)


def test_thresholds_shrunk_as_far_as_generalises():
    """Labels keep their own thresholds where their scores live on different
    scales, one global threshold where a weak frequent label would be
    predicted nearly everywhere (macro-F1 up, micro-F1 down) or where one
    threshold already separates every label."""
    rng = np.random.default_rng(0)
    n = 400
    y = (rng.random((n, 3)) < [0.5, 0.5, 0.25]).astype(int)
    separable = np.clip(np.where(y == 1, 0.7, 0.2) + rng.normal(0, 0.05, (n, 3)), 0, 1)
    scales = separable * [1.0, 0.3, 1.0]  # label 1's positives score ~0.21
    weak = separable.copy()
    weak[:, 2] = np.clip(0.2 + 0.05 * y[:, 2] + rng.normal(0, 0.1, n), 0, 1)
    for scores, own in ((scales, True), (weak, False), (separable, False)):
        shrinkage, toward = metrics.threshold_shrinkage(y, scores)
        assert bool(np.isfinite(shrinkage)) is own
        # ~100 or more positives a label: one band, whose pooled threshold
        # is the global one.
        assert toward == "global"
        rule = metrics.choose_thresholds(y, scores, per_label=None).summary()["rule"]
        assert (rule != "global") is own
        chosen = metrics.best_threshold(y, scores, per_label=None)
        # ~100 positives a label: shrunk by a few pseudo-counts, the same
        # predictions as each label's own threshold.
        np.testing.assert_array_equal(
            scores >= chosen,
            scores >= metrics.best_threshold(y, scores, per_label=own),
        )
    # The weak label's own F1 optimum is to predict it nearly everywhere.
    weak_threshold = metrics.best_threshold(y, weak, per_label=True)[2]
    assert (weak[:, 2] >= weak_threshold).mean() > 0.6


def test_shrunk_thresholds_move_by_validation_positives():
    """A label with n positives moves n / (n + k) of the way from the global
    threshold to its own; checked against thresholds found by brute force."""
    rng = np.random.default_rng(0)
    n = 600
    # Two frequent labels on their own scales, eight rare and noisy ones.
    y = (rng.random((n, 10)) < [0.4, 0.3] + [0.01] * 8).astype(int)
    noise = rng.normal(0, 1, (n, 10)) * ([0.1, 0.1] + [0.3] * 8)
    scores = np.clip((0.25 + 0.45 * y + noise) * ([1.0, 0.5] + [1.0] * 8), 0, 1)
    # Toward the global threshold only (bands=None): the rule before bands.
    shrinkage, toward = metrics.threshold_shrinkage(y, scores, bands=None)
    assert 0 < shrinkage < np.inf  # neither end: rare labels half-way
    assert toward == "global"

    grid = np.linspace(0.01, 0.99, 99)

    def f1_at(labels, predicted):
        tp = (labels & predicted).sum()
        denominator = 2 * tp + (~labels & predicted).sum() + (labels & ~predicted).sum()
        return 2 * tp / denominator if denominator else 0.0

    truth = y.astype(bool)
    global_threshold = grid[np.argmax([f1_at(truth, scores >= t) for t in grid])]
    expected = []
    for label in range(y.shape[1]):
        own = grid[
            np.argmax([f1_at(truth[:, label], scores[:, label] >= t) for t in grid])
        ]
        positives = y[:, label].sum()
        share = positives / (positives + shrinkage)
        expected.append(global_threshold + share * (own - global_threshold))
    np.testing.assert_allclose(
        metrics.best_threshold(y, scores, per_label=None, bands=None), expected
    )
    # The choice says how: the same thresholds, the global one and k.
    choice = metrics.choose_thresholds(y, scores, per_label=None, bands=None)
    np.testing.assert_allclose(choice.thresholds, expected)
    assert choice.summary() == {
        "rule": "shrunk",
        "shrinkage": shrinkage,
        "toward": "global",
        "global_threshold": pytest.approx(global_threshold),
    }
    for per_label, rule in ((True, "per_label"), (False, "global")):
        choice = metrics.choose_thresholds(y, scores, per_label=per_label)
        np.testing.assert_array_equal(
            choice.thresholds, metrics.best_threshold(y, scores, per_label=per_label)
        )
        assert choice.summary() == {
            "rule": rule,
            "shrinkage": None,
            "toward": None,
            "global_threshold": pytest.approx(global_threshold),
        }


def test_rare_labels_shrink_toward_their_band():
    """Rare labels scored systematically lower than frequent ones (as a
    network trained on few positives scores them) get their band's pooled
    threshold, checked by brute force, and it beats shrinking toward the
    global threshold on fresh data of the same kind."""
    rng = np.random.default_rng(0)
    # Four frequent labels; sixty rare ones with ~2 validation positives
    # each, too few for a threshold of their own.
    rates = np.array([0.3] * 4 + [0.003] * 60)

    def draw(n):
        y = rng.random((n, len(rates))) < rates
        scale = np.where(rates > 0.1, 1.0, 0.35)  # rare labels score low
        noise = rng.normal(0, 0.12, y.shape)
        return y.astype(int), np.clip((0.15 + 0.6 * y + noise) * scale, 0, 1)

    y, scores = draw(800)
    shrinkage, toward = metrics.threshold_shrinkage(y, scores)
    assert toward == "bands"
    choice = metrics.choose_thresholds(y, scores, per_label=None)
    assert (choice.shrinkage, choice.toward) == (shrinkage, toward)

    grid = np.linspace(0.01, 0.99, 99)
    truth = y.astype(bool)

    def micro_f1(labels, predicted):
        tp = (labels & predicted).sum()
        return 2 * tp / (2 * tp + (labels != predicted).sum())

    positives = y.sum(0)
    band = np.array([sum(n >= edge for edge in (1, 3, 10, 30)) for n in positives])
    global_threshold = grid[np.argmax([micro_f1(truth, scores >= t) for t in grid])]
    expected = []
    for label in range(y.shape[1]):
        members = band == band[label]
        pooled = global_threshold
        if band[label]:
            pooled = grid[
                np.argmax(
                    [micro_f1(truth[:, members], scores[:, members] >= t) for t in grid]
                )
            ]
        own = pooled
        if positives[label]:
            own = grid[
                np.argmax(
                    [micro_f1(truth[:, label], scores[:, label] >= t) for t in grid]
                )
            ]
        share = positives[label] / (positives[label] + shrinkage)
        expected.append(pooled + share * (own - pooled))
    np.testing.assert_allclose(choice.thresholds, expected)
    assert choice.summary()["toward" if 0 < shrinkage < np.inf else "rule"] in (
        "bands",
        "per_band",
    )

    fresh_y, fresh_scores = draw(4000)
    toward_global = metrics.best_threshold(y, scores, per_label=None, bands=None)

    def micro_and_macro(thresholds):
        predicted = fresh_scores >= thresholds
        return metrics.f1(fresh_y, predicted), metrics.f1(fresh_y, predicted, "macro")

    banded, pooled_global = (
        micro_and_macro(choice.thresholds),
        micro_and_macro(toward_global),
    )
    # Measured: macro-F1 0.86 against 0.79, micro-F1 0.977 against 0.962.
    assert banded[1] > pooled_global[1] + 0.03
    assert banded[0] > pooled_global[0] + 0.005


def test_average_precision_of_many_labels_in_blocks_matches_sklearn(rng):
    y = random_multi_hot(rng, 50, 1100, 0.05)
    scores = np.round(rng.random(y.shape) * 0.6 + 0.4 * y, 1)
    per_label = metrics.average_precision(y, scores)
    # Labels on both sides of each block's edge (512, 1024).
    for label in (0, 511, 512, 1023, 1024, 1099):
        if y[:, label].any():
            expected = skm.average_precision_score(y[:, label], scores[:, label])
            assert per_label[label] == pytest.approx(expected)
        else:
            assert np.isnan(per_label[label])


def test_resampled_map_is_the_map_of_each_resample(data, rng):
    y, scores = data
    resamples = rng.integers(0, len(y), (30, len(y)))
    resamples[0] = 0  # one row 60 times: every label constant, ties throughout
    resamples[1] = np.arange(len(y)) % 5  # five rows twelve times each
    expected = [
        metrics.mean_average_precision(y[rows], scores[rows]) for rows in resamples
    ]
    np.testing.assert_allclose(
        metrics.resampled_mean_average_precision(y, scores, resamples),
        expected,
        rtol=1e-12,
    )
    # No positive in a resample: NaN, as `mean_average_precision` of its rows.
    none = np.zeros_like(y)
    assert np.isnan(
        metrics.resampled_mean_average_precision(none, scores, resamples[:2])
    ).all()
    with pytest.raises(ValueError, match="must index the 60 rows"):
        metrics.resampled_mean_average_precision(y, scores, [[0, 60]])
    with pytest.raises(ValueError, match="integer row indices"):
        metrics.resampled_mean_average_precision(y, scores, [0.5])
