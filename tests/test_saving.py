"""Every model type the package saves loads in a fresh interpreter that has
imported `sdl_keras` alone, in Keras's safe mode."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sdl_keras import losses, metrics
from sdl_keras.encoders import (
    cnn_text_encoder,
    small_cnn_image_encoder,
    transformer_text_encoder,
)
from sdl_keras.models import ContrastiveModel, MultiLabelClassifier, ProjectionHead

pytestmark = pytest.mark.usefixtures("tensorflow_backend")

ROOT = Path(__file__).resolve().parents[1]

LOADER = """
import json, sys
import numpy as np
import keras
import sdl_keras
cases = json.loads(sys.argv[1])
for path, inputs, expected in cases:
    model = keras.saving.load_model(path)  # safe_mode=True
    got = model.predict(np.load(inputs), verbose=0)
    np.testing.assert_allclose(got, np.load(expected), rtol=1e-5, atol=1e-6)
    print("loaded", type(model).__name__)
"""


def _models(rng):
    tokens = rng.integers(0, 50, size=(4, 12)).astype("int32")
    tokens[:, 8:] = 0  # padding, masked by MaskedPooling1D
    pixels = rng.uniform(0, 255, size=(4, 16, 16, 1)).astype("float32")
    text_classifier = MultiLabelClassifier(
        cnn_text_encoder(50, embedding_dim=8, filters=6, kernel_size=3), 3
    )
    text_classifier.compile(optimizer="adam", metrics=[metrics.PrecisionAtK(2)])
    image_classifier = MultiLabelClassifier(
        small_cnn_image_encoder((16, 16, 1), widths=(4, 8)), 3, mode="linear_probe"
    )
    image_classifier.compile(optimizer="adam")
    transformer = MultiLabelClassifier(
        transformer_text_encoder(50, 12, hidden_dim=8, num_heads=2, num_layers=1), 3
    )
    transformer.compile(optimizer="adam")
    pretrainer = ContrastiveModel(
        cnn_text_encoder(50, embedding_dim=8, filters=6, kernel_size=3),
        ProjectionHead(4, hidden_dims=(8,)),
        num_views=2,
        num_labels=3,
        queue_size=8,
    )
    pretrainer.compile(optimizer="adam", loss=losses.SDL(temperature=0.2))
    views = np.stack([tokens, tokens], axis=1)
    labels = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]], "float32")
    pretrainer.fit(views, labels, batch_size=4, epochs=1, verbose=0)
    text_classifier.fit(tokens, labels, batch_size=4, epochs=1, verbose=0)
    return {
        "text_classifier": (text_classifier, tokens),
        "image_classifier": (image_classifier, pixels),
        "transformer_classifier": (transformer, tokens),
        "contrastive_model": (pretrainer, tokens),
    }


def test_every_saved_model_loads_after_importing_sdl_keras_alone(tmp_path):
    cases = []
    for name, (model, inputs) in _models(np.random.default_rng(0)).items():
        path = tmp_path / f"{name}.keras"
        model.save(path)
        np.save(tmp_path / f"{name}_x.npy", inputs)
        np.save(tmp_path / f"{name}_y.npy", model.predict(inputs, verbose=0))
        cases.append(
            [
                str(path),
                str(tmp_path / f"{name}_x.npy"),
                str(tmp_path / f"{name}_y.npy"),
            ]
        )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", LOADER, json.dumps(cases)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("loaded") == len(cases)
    assert "ContrastiveModel" in done.stdout
