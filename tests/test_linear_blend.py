"""The linear part of the default recipe: fitted to the scikit-learn optimum,
folded into the classifier, blended by validation, saved with it."""

import numpy as np
import pytest

from sdl_keras.linear_blend import fit_linear_blend, linear_probabilities
from sdl_keras.metrics import mean_average_precision
from sdl_keras.references import reference_scores
from sdl_keras.run_config import RunConfig
from sdl_keras.tabular_task import TabularTask, yeast_splits
from sdl_keras.two_stage import train_two_stage

pytestmark = pytest.mark.usefixtures("tensorflow_backend")


def test_blend_matches_scikit_learn_and_survives_saving(tmp_path, monkeypatch):
    import keras
    from sklearn.linear_model import LogisticRegression

    from sdl_keras import linear_blend, references

    # Strongly regularised, liblinear stops near enough the optimum that fits
    # on float32 (the layer's) and float64 features agree to 1e-4; at C of
    # 1,024 they differ by up to 1e-3.
    for module in (linear_blend, references):
        monkeypatch.setattr(module, "LOGREG_C", (1.0, 4.0, 16.0))
    train, validation, test = yeast_splits()
    pipeline = TabularTask.build(train.x)
    config = RunConfig(task="yeast", loss="none", classifier_epochs=3)
    classifier = train_two_stage(
        train=train, validation=validation, config=config, **pipeline.run_arguments()
    ).classifier
    own = classifier.predict(validation.x, verbose=0)
    chosen = fit_linear_blend(classifier, pipeline, train, validation)
    share = chosen["linear_weight"]
    blended = classifier.predict(validation.x, verbose=0)
    # The linear layer is scikit-learn's model on the standardised features.
    x = (train.x - np.asarray(pipeline.mean)) / np.asarray(pipeline.std)
    reference = LogisticRegression(C=chosen["linear_c"], solver="liblinear")
    reference.fit(x, train.y[:, 0])
    x_validation = (validation.x - np.asarray(pipeline.mean)) / np.asarray(pipeline.std)
    linear = reference.predict_proba(x_validation)[:, 1]
    logits = classifier.linear_model.predict(validation.x, verbose=0)[:, 0]
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), linear, atol=2e-5)
    np.testing.assert_allclose(
        blended[:, 0], (1 - share) * own[:, 0] + share * linear, atol=2e-5
    )
    # Alone, it is the logistic-regression reference, which a run therefore
    # scores instead of fitting it again (float32 features: liblinear stops
    # within its tolerance a little elsewhere).
    features = pipeline.reference_features(train, validation, test)
    for split, expected in zip(
        (validation, test),
        reference_scores("logreg", train, validation, features),
        strict=True,
    ):
        np.testing.assert_allclose(
            linear_probabilities(classifier, pipeline, split), expected, atol=1e-4
        )
    # Chosen on validation: never worse there than the classifier alone.
    assert mean_average_precision(validation.y, blended) >= (
        mean_average_precision(validation.y, own) - 1e-3
    )
    assert chosen["validation_map"]["blend"] == pytest.approx(
        mean_average_precision(validation.y, blended), abs=1e-5
    )
    path = tmp_path / "classifier.keras"
    classifier.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.linear_weight == share
    np.testing.assert_allclose(
        loaded.predict(validation.x, verbose=0), blended, atol=1e-6
    )


def test_no_plain_features_no_blend():
    from sdl_keras.image_task import ImageTask

    assert fit_linear_blend(None, ImageTask((8, 8)), None, None) == {}


@pytest.mark.parametrize(
    "classifier_noise, linear_noise, expected",
    [
        # The classifier is noise: no blend beats the linear model alone.
        (None, 1.0, [1.0]),
        # The reverse: the classifier alone.
        (1.0, None, [0.0]),
        # Two equally good models with independent errors: their average is
        # clearly ahead of either.
        (1.0, 1.0, [0.4, 0.5, 0.6]),
    ],
)
def test_chosen_share_keeps_the_better_model_unless_a_blend_clearly_wins(
    classifier_noise, linear_noise, expected
):
    from sdl_keras.linear_blend import BLEND_SHARES, chosen_share

    rng = np.random.default_rng(0)
    y = (rng.random((400, 6)) < 0.2).astype("float32")

    def scores(noise):
        logits = rng.normal(0.0, 1.0, y.shape)
        if noise is not None:
            logits = 2.0 * y - 1.0 + rng.normal(0.0, noise, y.shape)
        return 1.0 / (1.0 + np.exp(-logits))

    share, quality = chosen_share(y, scores(classifier_noise), scores(linear_noise))
    assert share in expected
    assert list(quality) == list(BLEND_SHARES)


def test_a_blend_ahead_only_by_chance_is_not_kept():
    """On a small validation set, a blend a hair ahead of the better model
    alone on all the examples, but not on most resamples, is refused."""
    from sdl_keras.linear_blend import BLEND_SHARES, chosen_share

    rng = np.random.default_rng(1)
    y = (rng.random((120, 4)) < 0.1).astype("float32")
    linear = 1.0 / (1.0 + np.exp(-(3.0 * y - 1.5 + rng.normal(0, 1.0, y.shape))))
    weak = 1.0 / (1.0 + np.exp(-(0.6 * y + rng.normal(0, 1.0, y.shape))))
    ahead = [
        share
        for share in BLEND_SHARES[1:-1]
        if mean_average_precision(y, (1 - share) * weak + share * linear)
        > mean_average_precision(y, linear)
    ]
    assert ahead, "the fixture should hold a blend ahead on all the examples"
    share, quality = chosen_share(y, weak, linear)
    assert share == 1.0
    assert max(quality[ahead_share] for ahead_share in ahead) > quality[1.0]
    assert quality[1.0] == mean_average_precision(y, linear)


def test_an_incumbent_stays_unless_clearly_beaten():
    """With `incumbent=0.0` the classifier alone stays where the other model
    alone is ahead on all the examples, but by one example: absent from a
    third of the resamples, it cannot make the other win in 90% of them."""
    from sdl_keras.linear_blend import chosen_share

    rng = np.random.default_rng(2)
    y = (rng.random((150, 4)) < 0.2).astype("float32")
    classifier = 1.0 / (1.0 + np.exp(-(1.0 * y + rng.normal(0, 1.0, y.shape))))
    other = classifier.copy()
    lowest_positive = np.flatnonzero(y[:, 0])[np.argmin(classifier[y[:, 0] == 1, 0])]
    other[lowest_positive, 0] = 1.0
    assert chosen_share(y, classifier, other)[0] == 1.0
    assert chosen_share(y, classifier, other, incumbent=0.0)[0] == 0.0


def test_search_values_per_worker_counts_the_fewest_fits_the_search_makes():
    from scipy import sparse

    from sdl_keras.references import search_values_per_worker

    x = sparse.random(50, 40, density=0.1, format="csr", random_state=0)
    assert x.nnz == 200
    # Two C at least per label, one where there is one.
    assert search_values_per_worker(x, 10, (1.0, 4.0, 16.0), n_jobs=1) == 200 * 20
    assert search_values_per_worker(x, 10, (4.0,), n_jobs=1) == 200 * 10
    # Above the sample C is chosen on: two C on it, then every label once.
    many = search_values_per_worker(x, 300, (1.0, 4.0), choice_labels=128, n_jobs=1)
    assert many == 200 * (128 * 2 + 300)
    assert search_values_per_worker(x, 300, (1.0, 4.0), n_jobs=2) == many / 2
    assert search_values_per_worker(np.ones((5, 4)), 3, (1.0, 4.0), n_jobs=1) == 120


def test_a_run_leaves_an_over_budget_linear_model_out_unless_asked(
    tmp_path, monkeypatch, capsys
):
    import json

    from sdl_keras import linear_blend
    from sdl_keras.cli import main
    from sdl_keras.references import LOGREG_C

    monkeypatch.setattr(linear_blend, "LINEAR_BLEND_BUDGET", 1.0)
    argv = ["train", "--task", "yeast", "--loss", "none", "--limit", "300"]
    argv += ["--classifier-epochs", "2", "--no-neighbour-blend"]
    runs = {"default": [], "forced": ["--linear-blend"]}
    metrics = {}
    for name, flags in runs.items():
        assert main([*argv, *flags, "--output-dir", str(tmp_path / name)]) == 0
        metrics[name] = json.loads((tmp_path / name / "metrics.json").read_text())
    out = capsys.readouterr().out
    assert "linear blend left out: its fits would pass" in out
    skipped = metrics["default"]["none"]["linear_blend"]
    assert "over the budget of 1 (14 labels" in skipped["skipped"]
    assert "linear_c" not in skipped
    # No linear model: no reference comes free, and none is fitted unasked.
    assert "logreg (reference)" not in metrics["default"]
    forced = metrics["forced"]["none"]["linear_blend"]
    assert forced["linear_c"] in LOGREG_C
    assert forced["values_per_worker"] == skipped["values_per_worker"] > 1.0
    assert "logreg (reference)" in metrics["forced"]
