"""The linear part of the default recipe: fitted to the scikit-learn optimum,
folded into the classifier, blended by validation, saved with it."""

import numpy as np
import pytest

from sdl_keras.linear_blend import fit_linear_blend
from sdl_keras.metrics import mean_average_precision
from sdl_keras.run_config import RunConfig
from sdl_keras.tabular_task import TabularTask, yeast_splits
from sdl_keras.two_stage import train_two_stage

pytestmark = pytest.mark.usefixtures("tensorflow_backend")


def test_blend_matches_scikit_learn_and_survives_saving(tmp_path):
    import keras
    from sklearn.linear_model import LogisticRegression

    train, validation, _ = yeast_splits()
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
    "blends, expected",
    [
        # The linear model alone is better; a blend within the tolerance of
        # the best does not replace it.
        ({0.0: 0.70, 0.5: 0.80, 0.9: 0.8424, 1.0: 0.8421}, 1.0),
        # The classifier alone is better: the same rule keeps it.
        ({0.0: 0.9520, 0.1: 0.9525, 0.5: 0.94, 1.0: 0.93}, 0.0),
        # A blend clearly ahead of both is kept.
        ({0.0: 0.88, 0.3: 0.8945, 0.4: 0.8941, 1.0: 0.872}, 0.3),
        # Of blends tied with the best, the one nearest the better model.
        ({0.0: 0.80, 0.6: 0.8502, 0.7: 0.8500, 1.0: 0.83}, 0.7),
    ],
)
def test_chosen_share_keeps_the_better_model_unless_a_blend_beats_it(blends, expected):
    from sdl_keras.linear_blend import chosen_share

    assert chosen_share(blends) == expected
