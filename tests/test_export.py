"""Export for TensorFlow Serving: fresh-process reload, the signature layout
the serving page documents, and the Serving request/response contract."""

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
predict_pb2 = pytest.importorskip("tensorflow_serving.apis.predict_pb2")

from sdl_keras.data import images, text  # noqa: E402
from sdl_keras.encoders import cnn_text_encoder, small_cnn_image_encoder  # noqa: E402
from sdl_keras.export import (  # noqa: E402
    LABELS_FILE,
    WARMUP_FILE,
    ImagePreprocessor,
    LocalServer,
    ServingError,
    TextPreprocessor,
    export_for_serving,
    non_core_ops,
)
from sdl_keras.models import MultiLabelClassifier, NeighbourLabels  # noqa: E402

pytestmark = pytest.mark.usefixtures("tensorflow_backend")

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["fever", "rash", "fracture", "cough"]
THRESHOLDS = [0.3, 0.45, 0.5, 0.62]
TOP_K = 3
MAX_LENGTH = 6
TEXTS = [
    "high fever and a dry cough",
    "itchy rash on both arms",
    "fracture of the left femur after a fall",
    "cough",
    "",  # empty document
    "zzz qqq unseen words only",
    "fever rash fracture cough fever rash fracture cough fever rash",  # > max
]


def _train(model, dataset):
    model.compile(optimizer="adam")
    model.fit(dataset, epochs=2, verbose=0, shuffle=False)
    model.thresholds.assign(THRESHOLDS)
    return model


def _export_case(model, base, path, key, raw, dataset) -> dict:
    """An export with what the model gives on `raw` through the training
    pipeline's evaluation `dataset` (independent of the export's graph)."""
    expected = {
        "probabilities": model.predict(dataset, verbose=0),
        "embedding": model.encoder.predict(dataset, verbose=0),
    }
    return {
        "model": model,
        "base": base,
        "path": path,
        "key": key,
        "raw": raw,
        "expected": expected,
    }


@pytest.fixture(scope="module")
def text_export(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    words = [*LABELS, "arm", "leg", "pain", "dry", "itchy", "fall"]
    rng = np.random.default_rng(0)
    corpus = [" ".join(rng.choice(words, size=rng.integers(2, 9))) for _ in range(64)]
    labels = np.array(
        [[float(name in doc) for name in LABELS] for doc in corpus], "float32"
    )
    tokenizer = text.vectorization_tokenizer(corpus, 50)
    encoder = cnn_text_encoder(
        text.vocabulary_size(tokenizer), embedding_dim=8, filters=12, kernel_size=3
    )
    model = _train(
        MultiLabelClassifier(encoder, len(LABELS), mode="fine_tune"),
        text.text_dataset(corpus, labels, tokenizer, MAX_LENGTH, 16, shuffle=True),
    )
    base = tmp_path_factory.mktemp("text_export")
    path = export_for_serving(
        model, base, TextPreprocessor(tokenizer, MAX_LENGTH), LABELS, top_k=TOP_K
    )
    dataset = text.text_dataset(
        TEXTS, np.zeros((len(TEXTS), len(LABELS))), tokenizer, MAX_LENGTH, 3
    )
    raw = [t.encode() for t in TEXTS]
    return _export_case(model, base, path, "text", raw, dataset) | {
        "tokenizer": tokenizer
    }


@pytest.fixture(scope="module")
def image_export(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(24, 10, 14, 3), dtype="uint8")
    labels = (rng.random((24, len(LABELS))) < 0.4).astype("float32")
    encoded = [tf.io.encode_png(image).numpy() for image in pixels]
    encoded[1] = tf.io.encode_jpeg(pixels[1]).numpy()
    size = (8, 8)
    model = _train(
        MultiLabelClassifier(
            small_cnn_image_encoder((*size, 3), widths=(4, 8)), len(LABELS)
        ),
        images.image_dataset(encoded, labels, size, 8, shuffle=True),
    )
    # The training images' nearest neighbours blended in: served with core ops.
    neighbours = NeighbourLabels(len(encoded), 8, len(LABELS), k=3)
    neighbours.store(
        model.encoder.predict(
            images.image_dataset(encoded, labels, size, 8), verbose=0
        ),
        labels,
    )
    model.blend_neighbours(neighbours, 0.5)
    base = tmp_path_factory.mktemp("image_export")
    path = export_for_serving(model, base, ImagePreprocessor(size), LABELS, top_k=TOP_K)
    raw = encoded[:5]
    dataset = images.image_dataset(raw, np.zeros((5, len(LABELS))), size, 2)
    return _export_case(model, base, path, "image_bytes", raw, dataset)


@pytest.fixture(params=["text", "image"])
def export(request, text_export, image_export):
    return text_export if request.param == "text" else image_export


FRESH_PROCESS = """
import base64, json, sys
import numpy as np
import tensorflow as tf

path, key, inputs, out = sys.argv[1:]
raw = [base64.b64decode(item) for item in json.load(open(inputs))]
loaded = tf.saved_model.load(path)
outputs = loaded.signatures["serving_default"](**{key: tf.constant(raw)})
embedding = loaded.signatures["embed"](**{key: tf.constant(raw)})["embedding"]
arrays = {name: value.numpy() for name, value in outputs.items()}
np.savez(out, embed=embedding.numpy(), **arrays)
print(json.dumps(sorted(m for m in ("keras_hub", "tensorflow_text", "sdl_keras")
                        if m in sys.modules)))
"""


def test_fresh_tensorflow_process_reproduces_the_model(export, tmp_path):
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps([base64.b64encode(r).decode() for r in export["raw"]]))
    out = tmp_path / "outputs.npz"
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(export["path"]), export["key"],
         str(inputs), str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    found = np.load(out, allow_pickle=True)
    expected = export["expected"]
    probabilities = expected["probabilities"]
    np.testing.assert_allclose(found["probabilities"], probabilities, atol=2e-6)
    np.testing.assert_allclose(found["embedding"], expected["embedding"], atol=2e-5)
    np.testing.assert_allclose(found["embed"], expected["embedding"], atol=2e-5)
    np.testing.assert_array_equal(
        found["predicted"], probabilities >= np.array(THRESHOLDS, "float32")
    )
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :TOP_K]
    np.testing.assert_allclose(
        found["top_k_scores"], np.take_along_axis(probabilities, order, 1), atol=2e-6
    )
    names = np.array([[name.encode() for name in LABELS]])[0][order]
    np.testing.assert_array_equal(found["top_k_labels"].astype(bytes), names)
    assert (export["path"] / "assets" / LABELS_FILE).read_text().split() == LABELS


def _documented_signatures(input_key: str, sizes: dict) -> set:
    page = (ROOT / "docs" / "serving.md").read_text()
    table = page.split("<!-- serving-signatures -->")[1].split("<!-- /serving")[0]
    rows = set()
    for line in table.strip().splitlines()[2:]:
        signature, kind, key, dtype, shape = (
            cell.strip().strip("`") for cell in line.strip("|").split("|")
        )
        key = input_key if kind == "input" else key
        for symbol, size in sizes.items():
            shape = shape.replace(symbol, str(size))
        rows.add((signature, kind, key, dtype, shape))
    return rows


def _cli_signatures(path: Path) -> set:
    cli = Path(sys.executable).with_name("saved_model_cli")
    done = subprocess.run(
        [str(cli), "show", "--all", "--dir", str(path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = set()
    pattern = re.compile(
        r"signature_def\['(\w+)'\]|(input|output)s\['(\w+)'\] tensor_info:\s+"
        r"dtype: (\w+)\s+shape: (\([^)]*\))"
    )
    signature = None
    for match in pattern.finditer(done.stdout):
        if match.group(1):
            signature = match.group(1)
        else:
            rows.add((signature, *match.group(2, 3, 4, 5)))
    return {row for row in rows if row[0] != "__saved_model_init_op"}


def test_saved_model_cli_shows_the_signatures_the_serving_page_documents(export):
    model = export["model"]
    sizes = {"L": model.num_labels, "k": TOP_K, "D": model.encoder.output_shape[-1]}
    expected = _documented_signatures(export["key"], sizes)
    assert len(expected) == 8
    assert _cli_signatures(export["path"]) == expected


def test_grpc_predict_request_and_response(export):
    server = LocalServer(export["base"], model_name="tags")
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "tags"
    request.inputs[export["key"]].CopyFrom(tf.make_tensor_proto(export["raw"]))
    response = server.grpc_predict(request)
    assert response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"
    batch, num_labels = export["expected"]["probabilities"].shape
    shapes = {
        key: [d.size for d in proto.tensor_shape.dim]
        for key, proto in response.outputs.items()
    }
    dimension = export["model"].encoder.output_shape[-1]
    assert shapes == {
        "probabilities": [batch, num_labels],
        "predicted": [batch, num_labels],
        "top_k_labels": [batch, TOP_K],
        "top_k_scores": [batch, TOP_K],
        "embedding": [batch, dimension],
    }
    np.testing.assert_allclose(
        tf.make_ndarray(response.outputs["probabilities"]),
        export["expected"]["probabilities"],
        atol=2e-6,
    )
    # Only what the client asks for, from the other signature.
    request.model_spec.signature_name = "embed"
    response = server.grpc_predict(request)
    assert list(response.outputs) == ["embedding"]
    request.model_spec.signature_name = ""
    request.output_filter.append("top_k_labels")
    assert list(server.grpc_predict(request).outputs) == ["top_k_labels"]


def test_rest_row_and_columnar_formats(text_export, image_export):
    server = LocalServer(text_export["base"])
    probabilities = text_export["expected"]["probabilities"]
    status, body = server.rest_predict(json.dumps({"instances": TEXTS[:2]}))
    assert status == 200
    rows = body["predictions"]
    assert len(rows) == 2 and set(rows[0]) == {
        "probabilities", "predicted", "top_k_labels", "top_k_scores", "embedding"
    }  # fmt: skip
    np.testing.assert_allclose(rows[1]["probabilities"], probabilities[1], atol=2e-6)
    assert rows[0]["top_k_labels"][0] in LABELS
    assert all(isinstance(flag, bool) for flag in rows[0]["predicted"])
    named = server.rest_predict({"instances": [{"text": t} for t in TEXTS[:2]]})[1]
    assert named == body
    status, columns = server.rest_predict({"inputs": {"text": TEXTS[:3]}})
    assert status == 200
    assert np.shape(columns["outputs"]["probabilities"]) == (3, len(LABELS))
    assert np.shape(columns["outputs"]["top_k_labels"]) == (3, TOP_K)
    assert server.rest_predict({"inputs": TEXTS[:3]})[1] == columns
    # One output: Serving answers with the bare value.
    status, embedded = server.rest_predict(
        {"signature_name": "embed", "inputs": TEXTS[:2]}
    )
    dimension = text_export["model"].encoder.output_shape[-1]
    assert np.shape(embedded["outputs"]) == (2, dimension)
    rows = server.rest_predict({"signature_name": "embed", "instances": TEXTS[:2]})[1]
    assert np.shape(rows["predictions"]) == (2, dimension)
    # Binary inputs travel base64-encoded.
    images_server = LocalServer(image_export["base"])
    encoded = [{"b64": base64.b64encode(r).decode()} for r in image_export["raw"]]
    status, body = images_server.rest_predict({"instances": encoded})
    assert status == 200
    np.testing.assert_allclose(
        [row["probabilities"] for row in body["predictions"]],
        image_export["expected"]["probabilities"],
        atol=2e-6,
    )


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"instances": [1, 2]}, "not of expected type: string"),
        ({"instances": [{"txt": "fever"}]}, r"alias not found .*txt.*\{text\}"),
        ({"instances": []}, "non-empty list"),
        ({"inputs": []}, "Empty request"),
        ({"instances": ["a"], "inputs": ["a"]}, "exactly one of"),
        ({"instances": [["a", "b"]]}, r"must have shape \(None,\)"),
        ({"signature_name": "classify", "instances": ["a"]}, "classify.*not found"),
        ('{"instances": [', "not valid JSON"),
        ({"instances": [["a"], ["b", "c"]]}, "rectangular"),
        ({"instances": ["a", ["b"]]}, "rectangular"),
        ({"signature_name": ["x"], "instances": ["a"]}, "must be a string"),
        (b'{"instances": ["\xff"]}', "not UTF-8"),
        ('{"instances": ["\\ud800"]}', "lone surrogate"),
        ({"instances": [{"b64": 7}]}, "invalid base64"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_bad_rest_requests_get_clear_errors(text_export, request_body, message):
    status, body = LocalServer(text_export["base"]).rest_predict(request_body)
    assert status == 400
    assert re.search(message, body["error"]), body


def test_empty_columnar_request_does_not_leak_graph_assertions(text_export):
    status, body = LocalServer(text_export["base"]).rest_predict({"inputs": []})
    assert (status, body) == (
        400,
        {"error": "Empty request: send at least one `text`."},
    )


def _json_values():
    from hypothesis import strategies as st

    leaves = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats()
        | st.text(max_size=8)
        | st.just({"b64": "AAAA"})
    )
    values = st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=10,
    )
    keys = st.sampled_from(["instances", "inputs", "signature_name", "text", "x"])
    return values | st.dictionaries(keys, values, max_size=3)


def test_any_rest_body_gets_an_answer_never_an_exception(text_export):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    server = LocalServer(text_export["base"])

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(_json_values() | st.binary(max_size=30))
    def answers(body):
        if not isinstance(body, bytes):
            body = json.dumps(body)
        status, answer = server.rest_predict(body)
        assert (status, sorted(answer)) in [
            (200, ["predictions"]),
            (200, ["outputs"]),
            (400, ["error"]),
            (404, ["error"]),
        ]
        if status != 200:
            assert isinstance(answer["error"], str) and answer["error"]
            assert "assertion" not in answer["error"].lower()

    answers()


def test_bad_grpc_requests_get_clear_errors(text_export, image_export):
    server = LocalServer(text_export["base"], model_name="tags")

    def request(inputs, name="tags"):
        message = predict_pb2.PredictRequest()
        message.model_spec.name = name
        for key, value in inputs.items():
            message.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        return message

    cases = [
        ({"text": np.array([1.5, 2.0], "float32")}, "to be string but float32"),
        ({"body": ["fever"]}, r"alias not found in signature: body"),
        ({}, "Missing input: text"),
        ({"text": np.array([], dtype=object)}, "Empty request"),
    ]
    for inputs, message in cases:
        with pytest.raises(ServingError, match=message) as caught:
            server.grpc_predict(request(inputs))
        assert caught.value.code == "INVALID_ARGUMENT"
    with pytest.raises(ServingError, match="Servable not found") as caught:
        server.grpc_predict(request({"text": ["fever"]}, name="other"))
    assert caught.value.code == "NOT_FOUND"
    not_an_image = request({"image_bytes": [b"plain text, not an image"]}, "model")
    with pytest.raises(ServingError, match="Unknown image file format"):
        LocalServer(image_export["base"]).grpc_predict(not_an_image)


def test_versions_overwrite_and_no_partial_export(text_export, tmp_path):
    model, tokenizer = text_export["model"], text_export["tokenizer"]
    preprocessor = TextPreprocessor(tokenizer, MAX_LENGTH)
    first = export_for_serving(model, tmp_path, preprocessor, LABELS)
    second = export_for_serving(model, tmp_path, preprocessor, LABELS)
    assert (first.name, second.name) == ("1", "2")
    stamp = (first / "saved_model.pb").stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_for_serving(model, tmp_path, preprocessor, LABELS, version=1)
    assert (first / "saved_model.pb").stat().st_mtime_ns == stamp
    replaced = export_for_serving(
        model, tmp_path, preprocessor, LABELS, version=1, overwrite=True
    )
    assert replaced == first and (first / "saved_model.pb").exists()
    with pytest.raises(ValueError, match="4 labels but 3 label names"):
        export_for_serving(model, tmp_path, preprocessor, LABELS[:3], version=7)
    with pytest.raises(ValueError, match="unique"):
        export_for_serving(model, tmp_path, preprocessor, [*LABELS[:3], "rash"])
    with pytest.raises(ValueError, match="`version` must be"):
        export_for_serving(model, tmp_path, preprocessor, LABELS, version=0)
    with pytest.raises(TypeError, match="MultiLabelClassifier"):
        export_for_serving(model.encoder, tmp_path, preprocessor, LABELS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1", "2"]


def test_tensorflow_text_tokenizers_are_refused(text_export, tmp_path):
    tensorflow_text = pytest.importorskip("tensorflow_text")
    tokenizer = text.wordpiece_tokenizer(TEXTS, 60)
    with pytest.raises(ValueError, match=r"tensorflow-text.*vectorization_tokenizer"):
        TextPreprocessor(tokenizer, MAX_LENGTH)
    # The graph check names such ops whatever brings them in.
    module = tf.Module()
    module.split = tf.function(
        lambda texts: tensorflow_text.WhitespaceTokenizer().tokenize(texts).flat_values,
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    tf.saved_model.save(module, str(tmp_path / "tf_text"))
    assert any("Whitespace" in op for op in non_core_ops(tmp_path / "tf_text"))
    assert non_core_ops(text_export["path"]) == []


def test_warmup_requests_replay_through_the_signature(text_export, tmp_path):
    prediction_log_pb2 = pytest.importorskip(
        "tensorflow_serving.apis.prediction_log_pb2"
    )
    model, tokenizer = text_export["model"], text_export["tokenizer"]
    path = export_for_serving(
        model,
        tmp_path,
        TextPreprocessor(tokenizer, MAX_LENGTH),
        LABELS,
        warmup_inputs=TEXTS[:2],
    )
    records = list(tf.data.TFRecordDataset(str(path / "assets.extra" / WARMUP_FILE)))
    assert len(records) == 1
    log = prediction_log_pb2.PredictionLog.FromString(records[0].numpy())
    request = log.predict_log.request
    assert tf.make_ndarray(request.inputs["text"]).tolist() == [
        t.encode() for t in TEXTS[:2]
    ]
    request.model_spec.name = "model"
    response = LocalServer(tmp_path).grpc_predict(request)
    np.testing.assert_allclose(
        tf.make_ndarray(response.outputs["probabilities"]),
        text_export["expected"]["probabilities"][:2],
        atol=2e-6,
    )
    with pytest.raises(ValueError, match="at least one input"):
        export_for_serving(
            model, tmp_path, TextPreprocessor(tokenizer, MAX_LENGTH), LABELS,
            warmup_inputs=[],
        )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1"]
