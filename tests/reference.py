"""Loss values computed with plain loops over anchors and positives, from the
formulas alone, in float64: the independent reference the tests compare to."""

import numpy as np


def label_sets(y_true) -> list[frozenset]:
    y = np.asarray(y_true)
    if y.ndim == 1:
        return [frozenset([int(c)]) for c in y]
    return [frozenset(np.flatnonzero(row).tolist()) for row in y]


def relation(anchor: frozenset, other: frozenset) -> int:
    if not anchor & other:
        return 1
    if anchor == other:
        return 2
    if other < anchor:
        return 4
    if anchor < other:
        return 5
    return 3


def pair_weight(anchor: frozenset, other: frozenset, scheme: str) -> float:
    shared = len(anchor & other)
    if shared == 0:
        return 0.0
    if scheme in ("supcon", "any"):
        return 1.0
    if scheme == "all":
        return float(anchor == other)
    if scheme == "jaccard":
        return shared / len(anchor | other)
    if scheme == "sdl":
        return (shared / len(anchor)) * (1.0 / (1.0 + len(other - anchor)))
    if scheme == "similarity_only":
        return shared / len(anchor)
    if scheme == "dissimilarity_only":
        return 1.0 / (1.0 + len(other - anchor))
    if scheme == "symmetric":
        return shared / len(anchor | other) / (1.0 + len(anchor ^ other))
    raise KeyError(scheme)


def reference_loss(y_true, y_pred, scheme: str, temperature: float, queue=None):
    """Per-sample losses [B] and the mask of samples with a positive.

    `queue`: optional `(labels, embeddings [Q, D])`, extra contrast entries
    that are never anchors."""
    sets = label_sets(y_true)
    z = _unit(np.asarray(y_pred, dtype=np.float64))
    if z.ndim == 2:
        z = z[:, None, :]
    batch, views, _ = z.shape
    anchors = [(i, v) for i in range(batch) for v in range(views)]
    entries = [(sets[i], z[i, v], (i, v)) for i, v in anchors]
    if queue is not None:
        queue_z = _unit(np.asarray(queue[1], dtype=np.float64))
        entries += [
            (s, q, None) for s, q in zip(label_sets(queue[0]), queue_z, strict=True)
        ]
    losses = np.zeros(batch)
    counted = np.zeros(batch)
    for i, v in anchors:
        others = [(s, q) for s, q, key in entries if key != (i, v)]
        logits = np.array([z[i, v] @ q / temperature for _, q in others])
        log_prob = logits - np.log(np.exp(logits).sum())
        if scheme == "mulsupcon":
            label_losses = []
            for label in sorted(sets[i]):
                positives = [k for k, (s, _) in enumerate(others) if label in s]
                if positives:
                    label_losses.append(-log_prob[positives].sum() / len(positives))
            if not label_losses:
                continue
            anchor_loss = sum(label_losses) / len(label_losses)
        else:
            weighted = [
                (pair_weight(sets[i], s, scheme), k) for k, (s, _) in enumerate(others)
            ]
            positives = [(w, k) for w, k in weighted if w > 0]
            if not positives:
                continue
            anchor_loss = -sum(w * log_prob[k] for w, k in positives) / len(positives)
        losses[i] += anchor_loss
        counted[i] += 1
    has_positive = counted > 0
    losses[has_positive] /= counted[has_positive]
    return losses, has_positive


def _unit(z):
    return z / np.linalg.norm(z, axis=-1, keepdims=True)


def reference_mean(y_true, y_pred, scheme: str, temperature: float) -> float:
    losses, has_positive = reference_loss(y_true, y_pred, scheme, temperature)
    return float(losses[has_positive].mean()) if has_positive.any() else 0.0
