"""TensorFlow Serving's Predict API over an export, in process.

For trying requests and checking an export's contract without a model
server: the same REST JSON forms and gRPC protos, answered through the
exported signatures.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
import tensorflow as tf


class ServingError(Exception):
    """A request TensorFlow Serving would refuse: `code` is the gRPC status
    name (`INVALID_ARGUMENT`, `NOT_FOUND`); REST answers it as HTTP 400/404
    with `{"error": message}`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class LocalServer:
    """Answers Predict requests the way TensorFlow Serving does.

    Loads the highest version under `base_dir` (Serving's default policy)
    with TensorFlow alone.

    Args:
        base_dir: the model base path (`base_dir/<version>/saved_model.pb`).
        model_name: the name requests address (`/v1/models/<name>`).

    Example:

    ```python
    server = LocalServer("exports/hpo", model_name="hpo")
    status, body = server.rest_predict('{"instances": ["fever and cough"]}')
    ```
    """

    def __init__(self, base_dir: str | os.PathLike, model_name: str = "model") -> None:
        base = Path(base_dir)
        versions = [int(p.name) for p in base.glob("*") if p.name.isdigit()]
        if not versions:
            raise FileNotFoundError(f"No numbered version directory under {base}.")
        self.model_name = model_name
        self.version = max(versions)
        self.loaded = tf.saved_model.load(str(base / str(self.version)))

    def signature(self, name: str):
        if name not in self.loaded.signatures:
            raise ServingError(
                "INVALID_ARGUMENT",
                f'Serving signature name: "{name}" not found in signature def; '
                f"available: {sorted(self.loaded.signatures)}.",
            )
        return self.loaded.signatures[name]

    def predict(
        self, inputs: dict[str, np.ndarray], signature_name: str = "serving_default"
    ) -> dict[str, np.ndarray]:
        """Runs a signature on named arrays after Serving's input checks."""
        function = self.signature(signature_name)
        specs = function.structured_input_signature[1]
        _check_aliases("input", inputs, specs)
        missing = sorted(set(specs) - set(inputs))
        if missing:
            raise ServingError("INVALID_ARGUMENT", f"Missing input: {missing[0]}.")
        tensors = {}
        for key, spec in specs.items():
            value = np.asarray(inputs[key])
            if value.ndim and not len(value):
                raise ServingError(
                    "INVALID_ARGUMENT",
                    f"Empty request: send at least one `{key}`.",
                )
            if not _dtype_matches(value, spec.dtype):
                raise ServingError(
                    "INVALID_ARGUMENT",
                    f"Expects input `{key}` to be {spec.dtype.name} but "
                    f"{value.dtype} is provided.",
                )
            if not spec.shape.is_compatible_with(value.shape):
                raise ServingError(
                    "INVALID_ARGUMENT",
                    f"Input `{key}` must have shape {spec.shape}; received "
                    f"{list(value.shape)}.",
                )
            tensors[key] = tf.constant(value, spec.dtype)
        try:
            outputs = function(**tensors)
        except tf.errors.OpError as error:
            raise ServingError("INVALID_ARGUMENT", error.message) from None
        return {key: value.numpy() for key, value in outputs.items()}

    def grpc_predict(self, request):
        """A `tensorflow_serving.apis.predict_pb2.PredictRequest` to its
        `PredictResponse`; raises `ServingError` where Serving sends an error
        status."""
        from tensorflow_serving.apis import predict_pb2

        spec = request.model_spec
        if spec.name != self.model_name or (
            spec.HasField("version") and spec.version.value != self.version
        ):
            raise ServingError(
                "NOT_FOUND", f"Servable not found for request: {spec.name}."
            )
        signature_name = spec.signature_name or "serving_default"
        outputs = self.predict(
            {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()},
            signature_name,
        )
        wanted = list(request.output_filter) or list(outputs)
        _check_aliases("output", wanted, outputs)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = self.model_name
        response.model_spec.version.value = self.version
        response.model_spec.signature_name = signature_name
        for key in wanted:
            response.outputs[key].CopyFrom(tf.make_tensor_proto(outputs[key]))
        return response

    def rest_predict(self, body: str | bytes | dict) -> tuple[int, dict]:
        """`POST /v1/models/<name>:predict`: the HTTP status and JSON body."""
        try:
            return 200, self._rest(_parse_body(body))
        except ServingError as error:
            return (404 if error.code == "NOT_FOUND" else 400), {"error": error.message}

    def _rest(self, request) -> dict:
        if not isinstance(request, dict):
            raise ServingError("INVALID_ARGUMENT", "Request must be a JSON object.")
        signature_name = request.get("signature_name", "serving_default")
        if not isinstance(signature_name, str):
            raise ServingError(
                "INVALID_ARGUMENT",
                f"'signature_name' must be a string; got {json.dumps(signature_name)}.",
            )
        specs = self.signature(signature_name).structured_input_signature[1]
        if ("instances" in request) == ("inputs" in request):
            raise ServingError(
                "INVALID_ARGUMENT",
                "Request must have exactly one of 'instances' (row format) or "
                "'inputs' (columnar format).",
            )
        if "instances" in request:
            outputs = self.predict(_rows(request["instances"], specs), signature_name)
            return {"predictions": _rows_out(outputs)}
        outputs = self.predict(_columns(request["inputs"], specs), signature_name)
        if len(outputs) == 1:
            return {"outputs": _json_value(*next(iter(outputs.items())))}
        return {"outputs": {key: _json_value(key, v) for key, v in outputs.items()}}


def _parse_body(body):
    """The JSON request of a REST body (text, bytes or an already parsed value)."""
    if not isinstance(body, (str, bytes)):
        return body
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise ServingError("INVALID_ARGUMENT", "Request body is not UTF-8.") from None
    except (json.JSONDecodeError, RecursionError) as error:
        raise ServingError(
            "INVALID_ARGUMENT", f"Request is not valid JSON: {error}."
        ) from None


def _check_aliases(kind: str, asked, available) -> None:
    unknown = sorted(set(asked) - set(available))
    if unknown:
        raise ServingError(
            "INVALID_ARGUMENT",
            f"{kind} tensor alias not found in signature: {unknown[0]}. "
            f"{kind.capitalize()}s expected to be in the set "
            f"{{{', '.join(sorted(available))}}}.",
        )


def _rows(instances, specs: dict) -> dict[str, np.ndarray]:
    if not isinstance(instances, list) or not instances:
        raise ServingError(
            "INVALID_ARGUMENT", "'instances' must be a non-empty list of inputs."
        )
    named = all(isinstance(row, dict) and "b64" not in row for row in instances)
    if not named:
        if len(specs) != 1:
            raise ServingError(
                "INVALID_ARGUMENT",
                f"The signature has inputs {sorted(specs)}: each instance must "
                "be an object naming them.",
            )
        (key,) = specs
        return {key: _array(instances, specs[key], key)}
    keys = set(instances[0])
    if any(set(row) != keys for row in instances):
        raise ServingError(
            "INVALID_ARGUMENT", "Every instance must name the same inputs."
        )
    return {
        key: _array([row[key] for row in instances], specs.get(key), key)
        for key in keys
    }


def _columns(inputs, specs: dict) -> dict[str, np.ndarray]:
    if isinstance(inputs, dict) and "b64" not in inputs:
        return {
            key: _array(value, specs.get(key), key) for key, value in inputs.items()
        }
    if len(specs) != 1:
        raise ServingError(
            "INVALID_ARGUMENT",
            f"The signature has inputs {sorted(specs)}: 'inputs' must name them.",
        )
    (key,) = specs
    return {key: _array(inputs, specs[key], key)}


def _array(values, spec, key: str) -> np.ndarray:
    """JSON values to an array of the input's dtype, refusing leaves of
    another type as Serving does."""
    if spec is None:
        # Named but unknown: `predict` reports it with the expected names.
        return np.asarray([])
    try:
        if spec.dtype == tf.string:
            array = np.asarray(_map_leaves(values, key, _string_leaf), dtype=object)
            # Ragged lists give an object array of lists rather than an error.
            if not all(isinstance(value, bytes) for value in array.flat):
                raise ValueError("ragged")
            return array
        return np.asarray(
            _map_leaves(values, key, _number_leaf), spec.dtype.as_numpy_dtype
        )
    except (ValueError, OverflowError):
        raise ServingError(
            "INVALID_ARGUMENT",
            f"Input `{key}` must be a rectangular list of "
            f"{spec.dtype.name} values of one depth; got a ragged, mixed or "
            "out-of-range value.",
        ) from None


def _map_leaves(values, key: str, convert):
    if isinstance(values, list):
        return [_map_leaves(value, key, convert) for value in values]
    return convert(values, key)


def _string_leaf(value, key: str) -> bytes:
    if isinstance(value, dict) and set(value) == {"b64"}:
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (ValueError, TypeError):
            raise ServingError(
                "INVALID_ARGUMENT", f"Input `{key}`: invalid base64 in {value}."
            ) from None
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise ServingError(
                "INVALID_ARGUMENT",
                f"Input `{key}`: the string holds a lone surrogate, not UTF-8 text.",
            ) from None
    raise ServingError(
        "INVALID_ARGUMENT",
        f"Input `{key}`: JSON value {json.dumps(value)} is not of expected type: "
        'string (send text, or {"b64": ...} for binary data).',
    )


def _number_leaf(value, key: str):
    if isinstance(value, (int, float)):
        return value
    raise ServingError(
        "INVALID_ARGUMENT",
        f"Input `{key}`: JSON value {json.dumps(value)} is not a number.",
    )


def _rows_out(outputs: dict[str, np.ndarray]) -> list:
    sizes = {key: len(value) for key, value in outputs.items()}
    if len(set(sizes.values())) > 1:
        raise ServingError(
            "INVALID_ARGUMENT",
            f"Outputs have inconsistent batch sizes {sizes}: use the columnar "
            "format ('inputs').",
        )
    columns = {key: _json_value(key, value) for key, value in outputs.items()}
    if len(columns) == 1:
        return next(iter(columns.values()))
    return [
        dict(zip(columns, row, strict=True))
        for row in zip(*columns.values(), strict=True)
    ]


def _dtype_matches(value: np.ndarray, dtype: tf.DType) -> bool:
    if dtype == tf.string:
        return value.dtype.kind in "OSU"
    return value.dtype == dtype.as_numpy_dtype


def _json_value(key: str, value: np.ndarray):
    if value.dtype == object:
        # Serving writes binary outputs (names ending in `_bytes`) as base64.
        encode = (
            (lambda b: {"b64": base64.b64encode(b).decode("ascii")})
            if key.endswith("_bytes")
            else (lambda b: b.decode("utf-8"))
        )
        return np.vectorize(encode, otypes=[object])(value).tolist()
    return value.tolist()
