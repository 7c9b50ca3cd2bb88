"""Reading a user's files: every format, and every bad row named by file and
line (or skipped and reported)."""

import numpy as np
import pytest

from sdl_keras.data.files import (
    DataFileError,
    FileFields,
    iter_examples,
    read_examples,
)
from tests.conftest import write_jsonl


def write(path, text: str | bytes):
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_text_in_jsonl_csv_and_tsv(tmp_path):
    rows = [
        {"text": "fever and cough", "labels": ["infection", "lung"]},
        {"text": "broken femur", "labels": ["bone"]},
        {"text": "routine visit", "labels": []},
    ]
    from_jsonl = read_examples(write_jsonl(tmp_path / "a.jsonl", rows), "text")
    csv_text = 'text,labels\n"fever and cough","infection; lung"\nbroken femur,bone\n'
    from_csv = read_examples(
        write(tmp_path / "a.csv", csv_text + "routine visit,\n"), "text"
    )
    tsv_text = "body\ttags\nfever and cough\tinfection|lung\nbroken femur\tbone\n"
    fields = FileFields(text="body", labels="tags", separator="|")
    from_tsv = read_examples(write(tmp_path / "a.tsv", tsv_text), "text", fields)
    for examples in (from_jsonl, from_csv):
        assert examples.inputs == ["fever and cough", "broken femur", "routine visit"]
        assert examples.label_sets == [["infection", "lung"], ["bone"], []]
        assert examples.lines == [1, 2, 3] if examples is from_jsonl else [2, 3, 4]
        assert examples.unlabelled == 1
    assert from_tsv.label_sets == [["infection", "lung"], ["bone"]]


def test_images_are_relative_to_the_file_and_must_decode(tmp_path):
    import tensorflow as tf

    (tmp_path / "pics").mkdir()
    pixels = np.zeros((4, 4, 3), "uint8")
    (tmp_path / "pics" / "a.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (tmp_path / "pics" / "broken.png").write_bytes(b"not an image")
    good = write(tmp_path / "ok.csv", "image,labels\npics/a.png,cat;dog\n")
    examples = read_examples(good, "images")
    assert examples.inputs == [str((tmp_path / "pics" / "a.png").resolve())]
    missing = write(
        tmp_path / "missing.csv", "image,labels\npics/a.png,cat\nnone.png,x\n"
    )
    with pytest.raises(
        DataFileError, match=r"missing.csv, line 3: image 'none.png' not found"
    ):
        read_examples(missing, "images")
    broken = write(tmp_path / "broken.csv", "image,labels\npics/broken.png,cat\n")
    with pytest.raises(DataFileError, match=r"broken.csv, line 2: .*does not decode"):
        read_examples(broken, "images")


def test_tabular_csv_jsonl_and_arff(tmp_path):
    csv_file = write(tmp_path / "t.csv", "f1,f2,labels\n1.5,2,a;b\n-1,0.25,\n")
    examples = read_examples(csv_file, "tabular")
    np.testing.assert_array_equal(examples.inputs, [[1.5, 2.0], [-1.0, 0.25]])
    assert examples.feature_names == ["f1", "f2"]
    assert examples.label_sets == [["a", "b"], []]
    rows = [{"x": 1, "y": 2.5, "labels": ["a"]}, {"x": 0, "y": -1, "labels": ["b"]}]
    from_jsonl = read_examples(write_jsonl(tmp_path / "t.jsonl", rows), "tabular")
    np.testing.assert_array_equal(from_jsonl.inputs, [[1.0, 2.5], [0.0, -1.0]])
    arff = (
        "@relation 'yeast: -C 2'\n@attribute Att1 numeric\n@attribute 'Att 2' numeric\n"
        "@attribute Class1 {0,1}\n@attribute Class2 {0,1}\n@data\n"
        "0.5,1.5,1,0\n% a comment\n{0 2.0,3 1}\n"
    )
    dense = read_examples(
        write(tmp_path / "y.arff", arff), "tabular", FileFields(label_count=2)
    )
    np.testing.assert_array_equal(dense.inputs, [[0.5, 1.5], [2.0, 0.0]])
    assert dense.label_sets == [["Class1"], ["Class2"]]
    assert dense.lines == [7, 9]
    write(
        tmp_path / "y.xml",
        '<labels><label name="Class1"></label><label name="Class2"/></labels>',
    )
    assert read_examples(tmp_path / "y.arff", "tabular").label_sets == dense.label_sets
    (tmp_path / "y.xml").unlink()
    with pytest.raises(DataFileError, match=r"y.xml beside it or give --label-count"):
        read_examples(tmp_path / "y.arff", "tabular")


@pytest.mark.parametrize(
    ("name", "content", "kind", "message"),
    [
        (
            "bad.jsonl",
            '{"text": "a", "labels": ["x"]}\n{"text": "b", "labels": [\n',
            "text",
            r"bad.jsonl, line 2: invalid JSON",
        ),
        (
            "list.jsonl",
            '["a", ["x"]]\n',
            "text",
            r"list.jsonl, line 1: expected a JSON object",
        ),
        (
            "nofield.jsonl",
            '{"body": "a", "labels": ["x"]}\n',
            "text",
            r"line 1: no 'text' field",
        ),
        (
            "empty_text.jsonl",
            '{"text": "  ", "labels": ["x"]}\n',
            "text",
            r"line 1: 'text' must be a non-empty string",
        ),
        (
            "number.jsonl",
            '{"text": 5, "labels": ["x"]}\n',
            "text",
            r"line 1: 'text' must be",
        ),
        (
            "type.jsonl",
            '{"text": "a", "labels": "x"}\n{"text": "b", "labels": {"x": 1}}\n',
            "text",
            r"type.jsonl, line 2: 'labels' must be a list of strings",
        ),
        (
            "twice.jsonl",
            '{"text": "a", "labels": ["x", "x"]}\n',
            "text",
            r"line 1: label 'x' appears twice",
        ),
        ("nolabels.jsonl", '{"text": "a"}\n', "text", r"line 1: no 'labels' field"),
        (
            "columns.csv",
            "text,labels\na,x\nb,y,z\n",
            "text",
            r"columns.csv, line 3: expected 2 fields, found 3",
        ),
        (
            "twice.csv",
            "text,labels\na,x;y;x\n",
            "text",
            r"twice.csv, line 2: label 'x' appears twice",
        ),
        ("empty.csv", "", "text", r"empty.csv holds no examples"),
        ("header.csv", "text,labels\n", "text", r"header.csv holds no examples"),
        ("notes.txt", "text\n", "text", r"notes.txt: unknown format '.txt'"),
        ("yeast.arff", "@data\n", "text", r"unknown format '.arff'; text data"),
        (
            "nan.csv",
            "f,labels\nnan,x\n",
            "tabular",
            r"nan.csv, line 2: feature 'f' is not finite",
        ),
        (
            "word.csv",
            "f,labels\n1,x\nabc,y\n",
            "tabular",
            r"word.csv, line 3: feature 'f' is not a number",
        ),
        ("utf.csv", b"text,labels\n\xff\xfe,x\n", "text", r"utf.csv: not UTF-8"),
    ],
)
def test_bad_input_names_the_file_and_line(tmp_path, name, content, kind, message):
    path = write(tmp_path / name, content)
    with pytest.raises(DataFileError, match=message):
        read_examples(path, kind)


def test_missing_file_and_skipped_rows(tmp_path):
    with pytest.raises(FileNotFoundError, match="Data file not found"):
        read_examples(tmp_path / "absent.jsonl", "text")
    path = write(
        tmp_path / "mixed.jsonl",
        '{"text": "a", "labels": ["x"]}\nnot json\n{"text": "", "labels": ["x"]}\n'
        '{"text": "b", "labels": ["y"]}\n',
    )
    examples = read_examples(path, "text", skip_bad_rows=True)
    assert examples.inputs == ["a", "b"] and examples.lines == [1, 4]
    assert [line for line, _ in examples.skipped] == [2, 3]
    assert "invalid JSON" in examples.skipped[0][1]


def test_chunks_stream_a_long_file(tmp_path):
    rows = [{"text": f"document {i}", "labels": [str(i % 3)]} for i in range(25)]
    path = write_jsonl(tmp_path / "long.jsonl", rows)
    chunks = list(iter_examples(path, "text", chunk_size=10))
    assert [len(chunk) for chunk in chunks] == [10, 10, 5]
    assert chunks[2].lines == list(range(21, 26))
    # Inputs to predict need no labels.
    bare = write_jsonl(tmp_path / "bare.jsonl", [{"text": "x"}, {"text": "y"}])
    (chunk,) = iter_examples(bare, "text", labels_required=False)
    assert chunk.label_sets is None and chunk.inputs == ["x", "y"]
