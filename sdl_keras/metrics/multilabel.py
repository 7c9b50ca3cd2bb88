"""Multi-label evaluation in NumPy: F1, ROC-AUC, precision@k, mAP, bands.

Conventions (each matches scikit-learn where it has the metric):
- F1: micro pools the counts of every label; macro averages per-label F1,
  with F1 = 0 for a label that is neither present nor predicted
  (`f1_score(..., zero_division=0)`).
- ROC-AUC and average precision are undefined for a label without positives
  (or, for AUC, without negatives); such labels are left out of the macro
  mean and counted in the report.
- precision@k averages |top-k ∩ true| / k over every sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

BANDS = ("head", "medium", "tail")


def _labels(y_true, name: str = "y_true") -> np.ndarray:
    y = np.asarray(y_true, dtype="float64")
    if y.ndim != 2:
        raise ValueError(f"`{name}` must be [N, L]; received shape {y.shape}.")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"`{name}` must be multi-hot: every value 0 or 1.")
    return y.astype(bool)


def _scores(y_score, shape: tuple[int, ...], name: str = "y_score") -> np.ndarray:
    s = np.asarray(y_score, dtype="float64")
    if s.shape != shape:
        raise ValueError(
            f"`{name}` must have the labels' shape {shape}; received {s.shape}."
        )
    if not np.isfinite(s).all():
        raise ValueError(f"`{name}` holds NaN or Inf.")
    return s


def _f1_from_counts(tp, fp, fn) -> np.ndarray:
    denominator = 2 * tp + fp + fn
    return np.divide(
        2 * tp,
        denominator,
        out=np.zeros_like(denominator, dtype="float64"),
        where=denominator > 0,
    )


def f1(y_true, y_pred, average: str = "micro") -> float:
    """Micro or macro F1 of binary predictions `[N, L]`."""
    y = _labels(y_true)
    p = _labels(y_pred, "y_pred")
    if p.shape != y.shape:
        raise ValueError(f"`y_pred` must have shape {y.shape}; received {p.shape}.")
    if average not in ("micro", "macro"):
        raise ValueError(f"`average` must be 'micro' or 'macro'; received {average!r}.")
    micro, macro = _micro_macro_f1(y, p)
    return micro if average == "micro" else macro


def _micro_macro_f1(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Micro- and macro-F1 of boolean `[N, L]` labels and predictions, from
    one count."""
    tp = (y & p).sum(0)
    fp = (~y & p).sum(0)
    fn = (y & ~p).sum(0)
    micro = float(_f1_from_counts(tp.sum(), fp.sum(), fn.sum()))
    return micro, float(_f1_from_counts(tp, fp, fn).mean()) if len(tp) else 0.0


# Pseudo-counts of validation positives by which a label's own threshold is
# shrunk toward a pooled one (`threshold_shrinkage`): 0 keeps every label's
# own threshold, infinity the pooled one.
SHRINKAGE = (0.0, 1.0, 3.0, 10.0, 30.0, 100.0, np.inf)
# Edges of the validation-positive counts that group labels into bands
# (1–2, 3–9, 10–29, 30 or more; labels without positives in none), each
# with the threshold that maximises micro-F1 over its labels: a network's
# scores for rare labels sit systematically lower than for frequent ones,
# which one global threshold misses and a handful of positives a label
# cannot measure; pooled over a band they can.
POSITIVE_BANDS = (1, 3, 10, 30)
POOLED = ("global", "bands")


def best_threshold(
    y_true,
    y_score,
    per_label: bool | None = False,
    candidates: Sequence[float] | None = None,
    shrinkages: Sequence[float] = SHRINKAGE,
    bands: Sequence[float] | None = POSITIVE_BANDS,
):
    """The decision threshold that maximises F1 on (validation) data.

    Args:
        y_true: multi-hot `[N, L]`.
        y_score: scores `[N, L]`, e.g. probabilities.
        per_label: `True`: one threshold per label, each maximising that
            label's F1 (labels without positives get the global threshold);
            `False`: one threshold maximising micro-F1; `None`: each label's
            own threshold shrunk toward a pooled one by as much as
            `threshold_shrinkage` finds generalises: a label with `n`
            positives moves `n / (n + k)` of the way from the pooled
            threshold (the global one, or its band's) to its own.
        candidates: thresholds tried. Defaults to 0.01, 0.02, ..., 0.99.
        shrinkages: the pseudo-counts `k` tried when `per_label` is `None`
            (`(0, inf)`: each label's own threshold or a pooled one).
        bands: edges of the validation-positive counts that group labels
            into bands, whose pooled thresholds are tried beside the global
            one when `per_label` is `None`; None: the global one only.

    Returns:
        A float, or a float array `[L]` when thresholds are per label. Ties
        go to the lowest threshold. `choose_thresholds` also says which `k`
        was chosen, and toward what.
    """
    return choose_thresholds(
        y_true, y_score, per_label, candidates, shrinkages, bands
    ).thresholds


class ThresholdChoice(NamedTuple):
    """Decision thresholds tuned on validation data, and how they were chosen.

    Attributes:
        thresholds: a float (one for all) or a float array `[L]`.
        global_threshold: the one threshold that maximises micro-F1.
        shrinkage: the pseudo-count `k` by which each label's own threshold
            was shrunk toward the pooled one (`threshold_shrinkage`): 0 keeps
            each label's own, infinity the pooled one.
        toward: the pooled threshold: `"global"` (one for all) or `"bands"`
            (each band's of `POSITIVE_BANDS`).
    """

    thresholds: float | np.ndarray
    global_threshold: float
    shrinkage: float
    toward: str = "global"

    def summary(self) -> dict:
        """The choice for a JSON report: `rule` (`"per_label"`, `"global"`,
        `"per_band"` or `"shrunk"`), `shrinkage` (`k`) and `toward` (the
        pooled threshold, `"global"` or `"bands"`), both null unless
        shrunk, and `global_threshold`."""
        shrunk = 0 < self.shrinkage < np.inf
        if shrunk:
            rule = "shrunk"
        elif self.shrinkage == 0:
            rule = "per_label"
        else:
            rule = "global" if self.toward == "global" else "per_band"
        return {
            "rule": rule,
            "shrinkage": self.shrinkage if shrunk else None,
            "toward": self.toward if shrunk else None,
            "global_threshold": round(self.global_threshold, 6),
        }


def choose_thresholds(
    y_true,
    y_score,
    per_label: bool | None = False,
    candidates: Sequence[float] | None = None,
    shrinkages: Sequence[float] = SHRINKAGE,
    bands: Sequence[float] | None = POSITIVE_BANDS,
) -> ThresholdChoice:
    """`best_threshold` (same arguments), with the global threshold and the
    shrinkage it chose.

    Examples:

    >>> y = np.array([[1, 0], [0, 1], [0, 0], [0, 0]] * 8)
    >>> scores = np.array([[0.9, 0.2], [0.5, 0.35], [0.5, 0.2], [0.1, 0.1]] * 8)
    >>> choice = choose_thresholds(y, scores, per_label=None)
    >>> choice.thresholds.round(2).tolist(), choice.summary()["rule"]
    ([0.51, 0.21], 'per_label')
    """
    y = _labels(y_true)
    s = _scores(y_score, y.shape)
    grid = _threshold_grid(candidates)
    groups = _band_groups(y, bands if per_label is None else None)
    best, own, pooled = _tuned_thresholds(y, s, grid, groups)
    if per_label is None:
        shrinkage, toward = _held_out_shrinkage(
            y, s, grid, _shrinkages(shrinkages), groups
        )
    else:
        shrinkage, toward = (0.0 if per_label else np.inf), "global"
    if toward == "global" and np.isinf(shrinkage):
        return ThresholdChoice(best, best, shrinkage)
    if shrinkage == 0:  # each label's own, exactly: no arithmetic on it
        return ThresholdChoice(own, best, shrinkage, toward)
    target = pooled if toward == "bands" else best
    thresholds = _shrunk(target, own, y.sum(0), shrinkage)
    return ThresholdChoice(thresholds, best, shrinkage, toward)


def threshold_shrinkage(
    y_true,
    y_score,
    candidates: Sequence[float] | None = None,
    shrinkages: Sequence[float] = SHRINKAGE,
    bands: Sequence[float] | None = POSITIVE_BANDS,
) -> tuple[float, str]:
    """How far thresholds tuned per label should be shrunk toward a pooled
    threshold, and toward which, to score best on data they were not tuned
    on.

    Tuned on validation data, per-label thresholds always look better there;
    elsewhere they help where labels' scores live on different scales (rare
    labels that a global threshold never predicts, objects drawn in a style
    the validation data lack) and hurt where a label's few validation
    positives make its threshold noise (its F1 optimum is to predict it
    nearly everywhere, which costs micro-F1). A label with `n` validation
    positives gets `p + n / (n + k) * (t - p)` from the pooled threshold
    `p` and its own `t`; `p` is the global threshold, or the one that
    maximises micro-F1 over the label's band (the labels with about as many
    validation positives, `bands`), which finds how much lower rare labels
    score than frequent ones from all their positives together. Over 8
    random halvings of the data, each half's thresholds are scored on the
    other half for every `k` in `shrinkages` and both pooled thresholds;
    the pair with the highest mean micro- plus macro-F1 among those at
    least as good as the global threshold on both is kept (ties go to the
    global one, then the larger `k`; the global threshold for all, `k`
    infinity, when none is better).

    Args:
        y_true: multi-hot `[N, L]`.
        y_score: scores `[N, L]`.
        candidates: thresholds tried (see `best_threshold`).
        shrinkages: the pseudo-counts `k` tried, non-negative; infinity
            stands for the pooled threshold alone and is always among them.
        bands: edges of the validation-positive counts that group labels
            (see `POSITIVE_BANDS`; a label's band is that of its positives in
            all of `y_true`); None: the global threshold only.

    Returns:
        The pseudo-count `k` (0 keeps each label's own threshold, infinity
        the pooled one) and the pooled threshold, `"global"` or `"bands"`.

    Examples:

    Label 1's scores are on another scale than label 0's: no one threshold
    separates both, and each label keeps its own.

    >>> y = np.array([[1, 0], [0, 1], [0, 0], [0, 0]] * 8)
    >>> scores = np.array([[0.9, 0.2], [0.5, 0.35], [0.5, 0.2], [0.1, 0.1]] * 8)
    >>> threshold_shrinkage(y, scores)
    (0.0, 'global')
    """
    y = _labels(y_true)
    s = _scores(y_score, y.shape)
    return _held_out_shrinkage(
        y,
        s,
        _threshold_grid(candidates),
        _shrinkages(shrinkages),
        _band_groups(y, bands),
    )


def _shrinkages(shrinkages: Sequence[float]) -> np.ndarray:
    values = np.asarray(shrinkages, dtype="float64")
    if (
        values.ndim != 1
        or not values.size
        or np.isnan(values).any()
        or (values < 0).any()
    ):
        raise ValueError(
            "`shrinkages` must be a non-empty list of pseudo-counts >= 0; "
            f"received {shrinkages!r}."
        )
    # Strongest first, so ties go to the strongest shrinkage; the global
    # threshold is the yardstick the others must match.
    return np.union1d(values, [np.inf])[::-1]


def _band_groups(y: np.ndarray, bands: Sequence[float] | None) -> np.ndarray | None:
    """Each label's band `[L]` by its positives in `y` (0: none), or None."""
    if bands is None:
        return None
    edges = np.asarray(bands, dtype="float64")
    if (
        edges.ndim != 1
        or not edges.size
        or not np.isfinite(edges).all()
        or edges[0] < 1
        or (np.diff(edges) <= 0).any()
    ):
        raise ValueError(
            "`bands` must be increasing positive counts, the first at least "
            f"1; received {bands!r}."
        )
    return np.searchsorted(edges, y.sum(0), side="right")


def _threshold_grid(candidates: Sequence[float] | None) -> np.ndarray:
    if candidates is None:
        return np.linspace(0.01, 0.99, 99)
    values = np.asarray(candidates, dtype="float64")
    if values.ndim != 1 or not values.size or not np.isfinite(values).all():
        raise ValueError(
            "`candidates` must be a non-empty list of finite thresholds; "
            f"received {candidates!r}."
        )
    return np.unique(values)  # sorted, so ties go to the lowest threshold


def _tuned_thresholds(
    y: np.ndarray, s: np.ndarray, grid: np.ndarray, groups: np.ndarray | None = None
) -> tuple[float, np.ndarray, np.ndarray]:
    """The global threshold maximising micro-F1, the per-label ones (the
    global one for labels without positives) and each label's group's
    threshold maximising the micro-F1 of the group's labels (`groups`
    `[L]`; the global one in group 0 and without groups), from one count.

    Each score is binned once by how many thresholds it reaches, so memory
    stays `[N, L]` whatever the grid's size (a `[T, N, L]` comparison does
    not fit at tens of thousands of labels).
    """
    num_thresholds, num_labels = len(grid), y.shape[1]
    reached = np.searchsorted(grid, s, side="right")  # s >= grid[j] ⇔ reached > j
    bins = (reached * num_labels + np.arange(num_labels)).ravel()
    size = (num_thresholds + 1) * num_labels

    def predicted_at_each_threshold(weights: np.ndarray | None) -> np.ndarray:
        at = np.bincount(bins, weights, minlength=size).reshape(-1, num_labels)
        return np.cumsum(at[::-1], axis=0)[::-1][1:]  # [T, L]

    predicted = predicted_at_each_threshold(None)
    tp = predicted_at_each_threshold(y.ravel().astype("float64"))
    fp, fn = predicted - tp, y.sum(0) - tp
    micro = _f1_from_counts(tp.sum(1), fp.sum(1), fn.sum(1))
    best = float(grid[int(np.argmax(micro))])
    per = _f1_from_counts(tp, fp, fn)  # [T, L]
    own = np.where(y.any(0), grid[np.argmax(per, axis=0)], best)
    pooled = np.full(num_labels, best)
    for group in () if groups is None else np.unique(groups[groups > 0]):
        members = groups == group
        f1s = _f1_from_counts(
            tp[:, members].sum(1), fp[:, members].sum(1), fn[:, members].sum(1)
        )
        pooled[members] = grid[int(np.argmax(f1s))]
    return best, own, pooled


def _shrunk(
    pooled: float | np.ndarray,
    per_label: np.ndarray,
    positives: np.ndarray,
    shrinkage: float,
) -> np.ndarray:
    # n / (n + inf) is 0: infinity gives every label the pooled threshold.
    share = np.divide(
        positives,
        positives + shrinkage,
        out=np.zeros(per_label.shape),
        where=positives > 0,
    )
    return pooled + share * (per_label - pooled)


def _held_out_shrinkage(
    y: np.ndarray,
    s: np.ndarray,
    grid: np.ndarray,
    shrinkages: np.ndarray,
    groups: np.ndarray | None,
    halvings: int = 8,
) -> tuple[float, str]:
    # In order of preference on ties: the global threshold, then the
    # stronger shrinkage (the fewer free thresholds); the first, the global
    # threshold for all, is the yardstick.
    pooled_names = POOLED if groups is not None else POOLED[:1]
    choices = [(name, k) for name in pooled_names for k in shrinkages]
    rng = np.random.default_rng(0)
    scores = np.zeros((len(choices), 2))  # held-out micro- and macro-F1
    for _ in range(halvings):
        order = rng.permutation(len(y))
        halves = (order[::2], order[1::2])
        for tuned_on, scored_on in (halves, halves[::-1]):
            best, per_label, pooled = _tuned_thresholds(
                y[tuned_on], s[tuned_on], grid, groups
            )
            positives = y[tuned_on].sum(0)
            for row, (name, shrinkage) in enumerate(choices):
                target = pooled if name == "bands" else best
                thresholds = _shrunk(target, per_label, positives, shrinkage)
                scores[row] += _micro_macro_f1(y[scored_on], s[scored_on] >= thresholds)
    # Within float noise of the global threshold counts as "as good".
    as_good = (scores >= scores[0] - 1e-9).all(axis=1)
    totals = np.where(as_good, scores.sum(axis=1), -np.inf)
    name, shrinkage = choices[int(np.argmax(totals))]
    return float(shrinkage), name


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..N along axis 0, ties given their mean rank."""
    order = np.argsort(values, axis=0, kind="stable")
    ranks = np.empty_like(values, dtype="float64")
    for column in range(values.shape[1]):
        sorted_values = values[order[:, column], column]
        _, first, counts = np.unique(
            sorted_values, return_index=True, return_counts=True
        )
        mean_rank = first + (counts + 1) / 2.0
        ranks[order[:, column], column] = np.repeat(mean_rank, counts)
    return ranks


def _auc_columns(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Per-column ROC-AUC by the rank statistic; NaN where undefined."""
    positives = y.sum(0).astype("float64")
    negatives = y.shape[0] - positives
    rank_sum = (_average_ranks(s) * y).sum(0)
    defined = (positives > 0) & (negatives > 0)
    auc = np.full(y.shape[1], np.nan)
    auc[defined] = (
        rank_sum[defined] - positives[defined] * (positives[defined] + 1) / 2
    ) / (positives[defined] * negatives[defined])
    return auc


def roc_auc(y_true, y_score, average: str = "macro") -> float:
    """Micro or macro ROC-AUC; macro leaves out labels without both classes
    (NaN if no label has both)."""
    y = _labels(y_true)
    s = _scores(y_score, y.shape)
    if average == "micro":
        return float(_auc_columns(y.reshape(-1, 1), s.reshape(-1, 1))[0])
    if average == "macro":
        auc = _auc_columns(y, s)
        return float(np.nanmean(auc)) if np.isfinite(auc).any() else float("nan")
    raise ValueError(f"`average` must be 'micro' or 'macro'; received {average!r}.")


def precision_at_k(y_true, y_score, k: int) -> float:
    """Mean over samples of |top-k scored labels ∩ true labels| / k."""
    y = _labels(y_true)
    s = _scores(y_score, y.shape)
    if not 1 <= int(k) <= y.shape[1]:
        raise ValueError(f"`k` must be in [1, {y.shape[1]}]; received {k}.")
    top = np.argsort(-s, axis=1, kind="stable")[:, : int(k)]
    return float(np.take_along_axis(y, top, axis=1).sum(1).mean() / int(k))


# Labels whose average precision is computed together.
_AP_BLOCK_LABELS = 512


def average_precision(y_true, y_score) -> np.ndarray:
    """Per-label average precision `[L]` (NaN for labels without positives):
    Σ_n (R_n − R_{n−1}) P_n over the distinct score thresholds."""
    y = _labels(y_true)
    return _weighted_average_precision(y, y_score, np.ones((1, len(y))))[0]


def mean_average_precision(y_true, y_score) -> float:
    """Mean of `average_precision` over labels with a positive."""
    ap = average_precision(y_true, y_score)
    return float(np.nanmean(ap)) if np.isfinite(ap).any() else float("nan")


def resampled_mean_average_precision(y_true, y_score, resamples) -> np.ndarray:
    """`mean_average_precision` of many resamples of the rows `[R]`, each
    `y_true[rows], y_score[rows]` for `rows` in `resamples` `[R, M]` (row
    indices, repeats allowed: bootstrap), with one sort of the scores for
    all of them: a repeated row is a tie with itself, so a resample is the
    rows weighted by how often it draws them."""
    y = _labels(y_true)
    resamples = np.asarray(resamples)
    if resamples.ndim != 2 or not np.issubdtype(resamples.dtype, np.integer):
        raise ValueError("`resamples` must be integer row indices [R, M].")
    if resamples.size and not 0 <= resamples.min() <= resamples.max() < len(y):
        raise ValueError(f"`resamples` must index the {len(y)} rows.")
    weights = np.stack([np.bincount(rows, minlength=len(y)) for rows in resamples])
    ap = _weighted_average_precision(y, y_score, weights)
    defined = np.isfinite(ap).any(axis=1)
    means = np.full(len(ap), np.nan)
    means[defined] = np.nanmean(ap[defined], axis=1)
    return means


def _weighted_average_precision(y: np.ndarray, y_score, weights) -> np.ndarray:
    """Average precision `[R, L]` of the rows weighted by each row of
    `weights` `[R, N]` (NaN where a label has no positive of weight)."""
    s = _scores(y_score, y.shape)
    result = np.full((len(weights), y.shape[1]), np.nan)
    scored = np.flatnonzero(y.any(0))
    positions = np.arange(len(y))
    # All labels at once, a block at a time (arrays `[block, N]`); labels as
    # rows make the sorts contiguous, and the order within tied scores does
    # not matter, so no stable sort (several times slower).
    for start in range(0, len(scored), _AP_BLOCK_LABELS):
        labels = scored[start : start + _AP_BLOCK_LABELS]
        block = np.ascontiguousarray(s[:, labels].T)
        order = np.argsort(-block, axis=1)
        scores = np.take_along_axis(block, order, axis=1)
        hits = np.take_along_axis(y[:, labels].T, order, axis=1)
        # Tied scores form one threshold: a hit counts at the precision of
        # the last position of its run of ties.
        run_ends = np.where(
            np.c_[scores[:, 1:] != scores[:, :-1], np.ones(len(labels), bool)],
            positions,
            len(y),
        )
        last = np.minimum.accumulate(run_ends[:, ::-1], axis=1)[:, ::-1]
        for r, row_weights in enumerate(weights):
            seen = row_weights[order]
            found = seen * hits
            true_positives = np.take_along_axis(np.cumsum(found, axis=1), last, axis=1)
            ranked = np.take_along_axis(np.cumsum(seen, axis=1), last, axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                precision = np.where(ranked > 0, true_positives / ranked, 0.0)
                result[r, labels] = (found * precision).sum(axis=1) / found.sum(axis=1)
    return result


def frequency_bands(label_counts, edges: Sequence[float] | None = None):
    """Head / medium / tail band of every label by its training frequency.

    Args:
        label_counts: `[L]` number of training samples carrying each label.
        edges: `(low, high)`: tail is count < low, medium low ≤ count < high,
            head count ≥ high. Defaults to the 1/3 and 2/3 quantiles of the
            counts, so the bands hold about a third of the labels each.

    Returns:
        `(bands, edges)`: a string array `[L]` of band names and the edges used.
    """
    counts = np.asarray(label_counts, dtype="float64")
    if counts.ndim != 1 or (counts < 0).any():
        raise ValueError("`label_counts` must be a 1-D array of counts ≥ 0.")
    if edges is None:
        edges = tuple(float(q) for q in np.quantile(counts, [1 / 3, 2 / 3]))
    low, high = (float(edge) for edge in edges)
    if low > high:
        raise ValueError(f"`edges` must be (low, high) with low ≤ high; got {edges}.")
    bands = np.where(counts >= high, "head", np.where(counts >= low, "medium", "tail"))
    return bands, (low, high)


def multilabel_report(
    y_true,
    y_score,
    threshold=0.5,
    label_counts=None,
    ks: Sequence[int] = (1, 5, 8),
    edges: Sequence[float] | None = None,
) -> dict:
    """Every metric of the field in one dictionary, overall and by band.

    Args:
        y_true: multi-hot `[N, L]`.
        y_score: scores `[N, L]`.
        threshold: decision threshold, a float or one per label `[L]`.
        label_counts: training count of each label; with it, the metrics are
            also reported per head/medium/tail band (see `frequency_bands`).
        ks: the k of precision@k (those above L are skipped).
        edges: band edges; defaults to frequency tertiles.
    """
    y = _labels(y_true)
    s = _scores(y_score, y.shape)
    thresholds = np.broadcast_to(np.asarray(threshold, dtype="float64"), (y.shape[1],))
    predictions = s >= thresholds

    def metrics(columns) -> dict:
        yc, sc, pc = y[:, columns], s[:, columns], predictions[:, columns]
        auc = _auc_columns(yc, sc)
        ap = average_precision(yc, sc)
        return {
            "num_labels": int(yc.shape[1]),
            "micro_f1": f1(yc, pc, "micro"),
            "macro_f1": f1(yc, pc, "macro"),
            "micro_auc": roc_auc(yc, sc, "micro"),
            "macro_auc": float(np.nanmean(auc)) if np.isfinite(auc).any() else None,
            "map": float(np.nanmean(ap)) if np.isfinite(ap).any() else None,
            "labels_without_positives": int((~yc.any(0)).sum()),
            "labels_without_negatives": int(yc.all(0).sum()),
            **{
                f"precision_at_{k}": precision_at_k(yc, sc, k)
                for k in ks
                if k <= yc.shape[1]
            },
        }

    report = {"threshold": thresholds.tolist(), **metrics(slice(None))}
    if label_counts is not None:
        counts = np.asarray(label_counts)
        if counts.shape != (y.shape[1],):
            raise ValueError(
                f"`label_counts` must have shape ({y.shape[1]},); received "
                f"{counts.shape}."
            )
        bands, used_edges = frequency_bands(counts, edges)
        report["band_edges"] = {"tail_below": used_edges[0], "head_from": used_edges[1]}
        report["bands"] = {
            band: metrics(np.flatnonzero(bands == band))
            for band in BANDS
            if (bands == band).any()
        }
    return report
