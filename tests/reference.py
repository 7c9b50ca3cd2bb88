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
    raise KeyError(scheme)


def reference_loss(y_true, y_pred, scheme: str, temperature: float):
    """Per-sample losses [B] and the mask of samples with a positive."""
    sets = label_sets(y_true)
    z = np.asarray(y_pred, dtype=np.float64)
    if z.ndim == 2:
        z = z[:, None, :]
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    batch, views, _ = z.shape
    anchors = [(i, v) for i in range(batch) for v in range(views)]
    losses = np.zeros(batch)
    counted = np.zeros(batch)
    for i, v in anchors:
        others = [(p, u) for p, u in anchors if (p, u) != (i, v)]
        logits = {o: z[i, v] @ z[o[0], o[1]] / temperature for o in others}
        log_denominator = np.log(sum(np.exp(x) for x in logits.values()))

        def log_prob(other, logits=logits, log_denominator=log_denominator):
            return logits[other] - log_denominator

        if scheme == "mulsupcon":
            label_losses = []
            for label in sorted(sets[i]):
                positives = [o for o in others if label in sets[o[0]]]
                if positives:
                    label_losses.append(
                        -sum(log_prob(o) for o in positives) / len(positives)
                    )
            if not label_losses:
                continue
            anchor_loss = sum(label_losses) / len(label_losses)
        else:
            weighted = [(pair_weight(sets[i], sets[o[0]], scheme), o) for o in others]
            positives = [(w, o) for w, o in weighted if w > 0]
            if not positives:
                continue
            anchor_loss = -sum(w * log_prob(o) for w, o in positives) / len(positives)
        losses[i] += anchor_loss
        counted[i] += 1
    has_positive = counted > 0
    losses[has_positive] /= counted[has_positive]
    return losses, has_positive


def reference_mean(y_true, y_pred, scheme: str, temperature: float) -> float:
    losses, has_positive = reference_loss(y_true, y_pred, scheme, temperature)
    return float(losses[has_positive].mean()) if has_positive.any() else 0.0
