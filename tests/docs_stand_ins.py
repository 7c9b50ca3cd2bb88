"""What the documentation's code names but a test machine cannot have (your
data, your model, a running server), made from offline data.

A block preceded by `<!-- docs-test: stand-ins NAME ... -->` runs after
`NAME(directory)`: for a Python block its returned names are defined before
the block; for a command block it writes the files the commands read.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import hpo_rows, write_jsonl


def notes_files(directory: Path) -> dict:
    """`notes.jsonl` (the README's three rows, then HPO term definitions
    labelled by organ system), `new_notes.jsonl` (texts only) and
    `labelled_notes.jsonl`."""
    rows = hpo_rows(360)
    readme = [
        {
            "text": "Fever and a dry cough for three days.",
            "labels": ["infection", "lung"],
        },
        {"text": "Fracture of the left femur after a fall.", "labels": ["bone"]},
        {"text": "Routine check-up, nothing found.", "labels": []},
    ]
    write_jsonl(directory / "notes.jsonl", readme + rows[:300])
    write_jsonl(directory / "labelled_notes.jsonl", rows[300:])
    write_jsonl(
        directory / "new_notes.jsonl", [{"text": r["text"]} for r in rows[300:]]
    )
    return {}


def yeast_models(directory: Path) -> dict:
    """Real Yeast data (14 labels) and an MLP encoder with a noise view."""
    import keras

    from sdl_keras.tabular_task import yeast_splits

    train, validation, test = yeast_splits()
    encoder = keras.Sequential(
        [keras.Input((103,)), keras.layers.Dense(64, activation="relu")]
    )
    return {
        "encoder": encoder,
        "make_views": keras.layers.GaussianNoise(0.3),
        "x_train": train.x,
        "y_train": train.y,
        "x_val": validation.x,
        "y_val": validation.y,
        "x_test": test.x,
        "x": test.x[:8],
    }


def mimic_download(directory: Path) -> dict:
    """MIMIC-III's files and columns, four admissions (tests/test_mimic.py)."""
    from tests.test_mimic import write_mimic_iii

    path = directory / "mimic-iii"
    path.mkdir()
    return {"MIMIC_DIR": write_mimic_iii(path)}


def coco_download(directory: Path) -> dict:
    """COCO 2017's layout with three real JPEGs (tests/test_images.py)."""
    from tests.test_images import write_coco

    path = directory / "coco"
    path.mkdir()
    return {"COCO_DIR": write_coco(path, "train")}


def text_classifier(directory: Path) -> dict:
    """A `MultiLabelClassifier` trained briefly on HPO definitions, its
    `TextTask` and label names."""
    from sdl_keras.datasets.hpo import load_hpo
    from sdl_keras.models import MultiLabelClassifier
    from sdl_keras.text_task import TextTask
    from sdl_keras.two_stage import Split

    texts, labels, vocabulary = load_hpo(1)
    train = Split(texts[:400], labels[:400])
    task = TextTask.build(train.x, vocabulary_size=2000)
    classifier = MultiLabelClassifier(task.make_encoder(), labels.shape[1])
    classifier.compile(optimizer="adam")
    classifier.fit(task.make_dataset(train, "train", 0), epochs=1, verbose=0)
    return {"classifier": classifier, "task": task, "label_names": vocabulary.names}


class LocalStub:
    """A `PredictionServiceStub` answered in process by `LocalServer`."""

    def __init__(self, base_dir: str, model_name: str = "hpo") -> None:
        from sdl_keras.export import LocalServer

        self.server = LocalServer(base_dir, model_name)

    def Predict(self, request, timeout: float | None = None):
        return self.server.grpc_predict(request)


def local_stub(directory: Path) -> dict:
    return {"LocalStub": LocalStub}
