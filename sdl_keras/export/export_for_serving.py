"""A trained classifier as a SavedModel that TensorFlow Serving runs as it is."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import tensorflow as tf
from keras import ops
from tensorflow.core.protobuf import saved_model_pb2

from sdl_keras._files import remove_tree
from sdl_keras.export.image_preprocessor import ImagePreprocessor
from sdl_keras.export.text_preprocessor import TextPreprocessor
from sdl_keras.models import MultiLabelClassifier

LABELS_FILE = "labels.txt"


def export_for_serving(
    model: MultiLabelClassifier,
    base_dir: str | os.PathLike,
    preprocessor: TextPreprocessor | ImagePreprocessor,
    label_names: Sequence[str],
    version: int | None = None,
    top_k: int = 5,
    overwrite: bool = False,
    warmup_inputs: Sequence | None = None,
) -> Path:
    """Writes `model` in TensorFlow Serving's layout, `base_dir/<version>/`.

    Two signatures take raw inputs (`preprocessor.input_name`: `"text"`,
    UTF-8 strings `[B]`, or `"image_bytes"`, encoded images `[B]`) and run
    the preprocessing inside the graph:

    - `serving_default` returns `probabilities` (float32 `[B, L]`),
      `predicted` (bool `[B, L]`, probability ≥ the label's tuned threshold),
      `top_k_labels` (string `[B, k]`), `top_k_scores` (float32 `[B, k]`)
      and `embedding` (the encoder's features, float32 `[B, D]`);
    - `embed` returns `embedding` alone.

    Label names and thresholds are constants of the graph, and the names are
    also written to `assets/labels.txt` (one per line, in column order), so a
    response means something without this package. The graph holds only core
    TensorFlow ops (checked before the version appears). The export is
    written beside the target and moved into place when complete, so a
    server watching `base_dir` never loads half a model.

    Args:
        model: a trained `MultiLabelClassifier` (its thresholds are used).
        base_dir: the model base path TensorFlow Serving watches.
        preprocessor: `TextPreprocessor` or `ImagePreprocessor` matching the
            training pipeline.
        label_names: the L label names, in the model's column order.
        version: the version directory; defaults to one above the highest
            existing version (1 for a new base path).
        top_k: labels named per input (at most L).
        overwrite: replace an existing version instead of refusing.
        warmup_inputs: a few raw inputs (strings or image bytes) written as
            `assets.extra/tf_serving_warmup_requests`, which TensorFlow
            Serving runs once at load so the first client request does not
            pay for the graph's first run (needs tensorflow-serving-api).

    Returns:
        The version directory written.

    Reference:
        TensorFlow Serving, "Serving a TensorFlow Model" and "RESTful API",
        https://www.tensorflow.org/tfx/serving.
    """
    if not isinstance(model, MultiLabelClassifier):
        raise TypeError(
            "`model` must be a trained sdl_keras MultiLabelClassifier; received "
            f"{type(model).__name__}."
        )
    if not isinstance(preprocessor, (TextPreprocessor, ImagePreprocessor)):
        raise TypeError(
            "`preprocessor` must be a TextPreprocessor or an ImagePreprocessor; "
            f"received {type(preprocessor).__name__}."
        )
    names = _checked_label_names(label_names, model.num_labels)
    if int(top_k) != top_k or top_k < 1:
        raise ValueError(f"`top_k` must be an integer ≥ 1; received {top_k}.")
    base = Path(base_dir)
    base.mkdir(parents=True, exist_ok=True)
    version = _version(base, version)
    target = base / str(version)
    if target.exists() and not overwrite:
        raise FileExistsError(
            f"{target} already exists; pass `overwrite=True` to replace it or "
            "choose another `version`."
        )
    # A name TensorFlow Serving ignores (not a number) until the move below.
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=base))
    try:
        labels_file = staging / LABELS_FILE
        labels_file.write_text("".join(f"{name}\n" for name in names), "utf-8")
        module = _ServingModule(
            model, preprocessor, names, min(int(top_k), model.num_labels), labels_file
        )
        written = staging / str(version)
        tf.saved_model.save(
            module,
            str(written),
            signatures={"serving_default": module.serve, "embed": module.embed},
        )
        outside_core = non_core_ops(written)
        if outside_core:
            raise ValueError(
                f"The exported graph uses ops that are not core TensorFlow ops "
                f"({', '.join(outside_core)}); stock TensorFlow Serving cannot "
                "load it. They come from a library such as tensorflow-text: "
                "preprocess with core ops (e.g. TextVectorization) instead."
            )
        if warmup_inputs is not None:
            _write_warmup(written, preprocessor.input_name, list(warmup_inputs))
        if target.exists():
            shutil.rmtree(target)
        written.rename(target)
    finally:
        remove_tree(staging)
    return target


WARMUP_FILE = "tf_serving_warmup_requests"


def _write_warmup(export_dir: Path, input_name: str, inputs: list) -> None:
    """One `serving_default` PredictRequest of `inputs`, as the TFRecord of
    `PredictionLog`s that TensorFlow Serving replays at load."""
    try:
        from tensorflow_serving.apis import predict_pb2, prediction_log_pb2
    except ImportError:
        raise ImportError(
            "Warm-up requests need the TensorFlow Serving protos: pip install "
            "tensorflow-serving-api (the `serving` extra)."
        ) from None
    if not inputs:
        raise ValueError("`warmup_inputs` must hold at least one input.")
    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = "serving_default"
    request.inputs[input_name].CopyFrom(tf.make_tensor_proto(inputs, tf.string))
    log = prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )
    directory = export_dir / "assets.extra"
    directory.mkdir()
    with tf.io.TFRecordWriter(str(directory / WARMUP_FILE)) as writer:
        writer.write(log.SerializeToString())


def non_core_ops(saved_model_dir: str | os.PathLike) -> list[str]:
    """Op types of a SavedModel (graph and functions) that core TensorFlow
    does not define: those stock TensorFlow Serving fails to load."""
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((Path(saved_model_dir) / "saved_model.pb").read_bytes())
    used: set[str] = set()
    for graph in saved_model.meta_graphs:
        used.update(node.op for node in graph.graph_def.node)
        for function in graph.graph_def.library.function:
            used.update(node.op for node in function.node_def)
    # `tf.raw_ops` is generated from the core op registry alone: ops that
    # extension libraries register at import time are not in it.
    return sorted(used - set(dir(tf.raw_ops)))


class _ServingModule(tf.Module):
    """The tracked model, preprocessing and label constants, and the two
    signatures."""

    def __init__(
        self,
        model: MultiLabelClassifier,
        preprocessor: TextPreprocessor | ImagePreprocessor,
        label_names: list[str],
        top_k: int,
        labels_file: Path,
    ) -> None:
        super().__init__(name="serving")
        self.model = model
        self.preprocessor = preprocessor
        self.labels_file = tf.saved_model.Asset(str(labels_file))
        self.label_names = tf.constant(label_names)
        self.thresholds = tf.constant(ops.convert_to_numpy(model.thresholds))
        self.top_k = top_k
        signature = [preprocessor.input_signature]
        self.serve = tf.function(self._serve, input_signature=signature)
        self.embed = tf.function(self._embed, input_signature=signature)

    def _forward(self, raw: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        check = tf.debugging.assert_positive(
            tf.size(raw),
            message=(
                f"Empty request: send at least one `{self.preprocessor.input_name}`."
            ),
        )
        # Ordered before the model: else a shape error may win the race.
        with tf.control_dependencies([check]):
            raw = tf.identity(raw)
        features, probabilities = self.model.features_and_probabilities(
            self.preprocessor(raw), training=False
        )
        return tf.cast(features, tf.float32), tf.cast(probabilities, tf.float32)

    def _serve(self, raw: tf.Tensor) -> dict[str, tf.Tensor]:
        features, probabilities = self._forward(raw)
        scores, columns = tf.math.top_k(probabilities, self.top_k)
        return {
            "probabilities": probabilities,
            "predicted": probabilities >= self.thresholds,
            "top_k_labels": tf.gather(self.label_names, columns),
            "top_k_scores": scores,
            "embedding": features,
        }

    def _embed(self, raw: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"embedding": self._forward(raw)[0]}


def _checked_label_names(label_names: Sequence[str], num_labels: int) -> list[str]:
    names = [str(name) for name in label_names]
    if len(names) != num_labels:
        raise ValueError(
            f"The model has {num_labels} labels but {len(names)} label names "
            "were given."
        )
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"Label names must be unique; repeated: {repeated[:5]}.")
    bad = [name for name in names if not name or "\n" in name]
    if bad:
        raise ValueError(f"Label names must be non-empty single lines: {bad[:5]}.")
    return names


def _version(base: Path, version: int | None) -> int:
    if version is None:
        existing = [int(path.name) for path in base.iterdir() if path.name.isdigit()]
        return max(existing, default=0) + 1
    if isinstance(version, bool) or int(version) != version or version < 1:
        raise ValueError(f"`version` must be an integer ≥ 1; received {version!r}.")
    return int(version)
