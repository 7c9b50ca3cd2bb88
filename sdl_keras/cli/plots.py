"""The figures of a results directory (matplotlib, written as PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI

import matplotlib.pyplot as plt
import numpy as np
from keras import ops

from sdl_keras import relations
from sdl_keras.metrics import BANDS

RELATIONS = ["R1 disjoint", "R2 equal", "R3 overlap", "R4 subset", "R5 superset"]


def training_curves(histories: dict[str, dict], path: Path) -> Path:
    """Per run: pre-training loss and classifier train/validation loss."""
    figure, (pretrain, classifier) = plt.subplots(1, 2, figsize=(10, 4))
    for name, history in histories.items():
        if history.get("pretrain", {}).get("loss"):
            pretrain.plot(history["pretrain"]["loss"], label=name)
        line = classifier.plot(history["classifier"]["loss"], label=f"{name} train")
        classifier.plot(
            history["classifier"]["val_loss"],
            "--",
            color=line[0].get_color(),
            label=f"{name} validation",
        )
    pretrain.set(title="contrastive pre-training", xlabel="epoch", ylabel="loss")
    classifier.set(title="classifier (BCE)", xlabel="epoch", ylabel="loss")
    for axes in (pretrain, classifier):
        if axes.lines:
            axes.legend(fontsize=8)
    return _save(figure, path)


def band_f1(reports: dict[str, dict], path: Path) -> Path:
    """Macro-F1 by label-frequency band (tuned thresholds), one bar per run."""
    figure, axes = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(reports), 1)
    for index, (name, report) in enumerate(reports.items()):
        values = [
            report["bands"].get(band, {}).get("macro_f1", np.nan) for band in BANDS
        ]
        axes.bar(np.arange(3) + index * width, values, width, label=name)
    axes.set_xticks(np.arange(3) + width * (len(reports) - 1) / 2, BANDS)
    axes.set(ylabel="macro-F1", title="macro-F1 by label frequency (test)")
    axes.legend(fontsize=8)
    return _save(figure, path)


def temperature_sweep(
    runs: dict[float, list[dict]], metrics: list[str], path: Path
) -> Path:
    """Mean ± std over seeds of `metrics` (tuned reports) against τ."""
    figure, axes = plt.subplots(figsize=(6, 4))
    points = sorted(runs.items())
    temperatures = [t for t, _ in points]
    for metric in metrics:
        values = np.array(
            [[r["tuned"][metric] for r in reports] for _, reports in points]
        )
        axes.errorbar(
            temperatures,
            values.mean(1),
            values.std(1),
            marker="o",
            capsize=3,
            label=metric,
        )
    axes.set(xscale="log", xlabel="temperature τ", title="SDL: test metrics against τ")
    axes.legend(fontsize=8)
    return _save(figure, path)


def pair_weights_by_relation(
    labels: np.ndarray, schemes: list[str], path: Path, max_samples: int = 512
) -> Path:
    """The distribution of each scheme's pair weights within each relation
    R2..R5 (R1 pairs weigh 0 in every scheme), over training label pairs."""
    labels = np.asarray(labels[:max_samples], "float32")
    codes = ops.convert_to_numpy(relations.relation_matrix(labels))
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    figure, axes = plt.subplots(1, len(schemes), figsize=(4 * len(schemes), 4))
    axes = np.atleast_1d(axes)
    for axis, scheme in zip(axes, schemes, strict=True):
        weights = ops.convert_to_numpy(relations.pair_weights(labels, scheme))
        groups = [weights[(codes == code) & off_diagonal] for code in range(2, 6)]
        shown = [group if group.size else np.array([np.nan]) for group in groups]
        axis.boxplot(shown, showfliers=False)
        axis.set_xticks(
            range(1, 5), [name.replace(" ", "\n") for name in RELATIONS[1:]]
        )
        counts = ", ".join(f"{group.size}" for group in groups)
        axis.set(
            title=f"{scheme} (pairs: {counts})", ylabel="pair weight", ylim=(0, 1.05)
        )
    return _save(figure, path)


def embedding_maps(
    embeddings: dict[str, np.ndarray],
    labels: np.ndarray,
    path: Path,
    max_points: int = 800,
    seed: int = 0,
) -> tuple[Path, list[int]]:
    """t-SNE maps of test embeddings side by side, each point coloured by the
    relation (R1..R5) of its label set to one anchor's: the most frequent
    multi-label set of the test labels (so every relation can occur).

    Returns:
        The figure's path and the anchor's label columns.
    """
    from sklearn.manifold import TSNE

    labels = np.asarray(labels, "float32")
    sets, counts = np.unique(labels[labels.sum(1) >= 2], axis=0, return_counts=True)
    anchor = sets[np.argmax(counts)] if len(sets) else labels[np.argmax(labels.sum(1))]
    chosen = np.random.default_rng(seed).permutation(len(labels))[:max_points]
    batch = np.concatenate([anchor[None], labels[chosen]])
    codes = ops.convert_to_numpy(relations.relation_matrix(batch))[0, 1:]
    figure, axes = plt.subplots(1, len(embeddings), figsize=(6 * len(embeddings), 5))
    axes = np.atleast_1d(axes)
    colours = plt.get_cmap("tab10")
    for axis, (name, embedding) in zip(axes, embeddings.items(), strict=True):
        points = TSNE(2, init="pca", random_state=seed, perplexity=30).fit_transform(
            np.asarray(embedding)[chosen]
        )
        for code in range(1, 6):
            where = codes == code
            axis.scatter(
                *points[where].T,
                s=6,
                color=colours(code - 1),
                label=RELATIONS[code - 1],
            )
        axis.set(title=f"{name}: test embeddings (t-SNE)", xticks=[], yticks=[])
        axis.legend(fontsize=7, markerscale=2)
    return _save(figure, path), np.flatnonzero(anchor).tolist()


def _save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
