"""Reading a user's labelled examples: JSONL, CSV, TSV and MULAN ARFF.

Every problem in a file is an error that names the file and the line (or a
skipped row, reported with its line, when bad rows are to be skipped); no
row is dropped silently.

File layouts (field names are options):

- JSONL: one object a line, `{"text": "...", "labels": ["a", "b"]}`; for
  images `{"image": "pics/1.png", "labels": [...]}` (paths relative to the
  file); for tabular data every other field is a numeric feature.
- CSV / TSV: a header row, then one row an example; the labels in one field
  joined by a separator (`a;b`); for tabular data every other column is a
  numeric feature.
- ARFF (tabular): MULAN's layout, dense or sparse rows; the label attributes
  are named in the XML file beside it or are the last `label_count`
  attributes.

An example with no labels (an empty list or field) is kept as unlabelled: it
is nobody's positive and has no positive.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

KINDS = ("text", "images", "tabular")
FORMATS = {
    ".jsonl": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".arff": "arff",
}


class DataFileError(ValueError):
    """A malformed file or row; the message names the file and the line."""


@dataclasses.dataclass(frozen=True)
class FileFields:
    """Where inputs and labels are in a file.

    Attributes:
        text: field of the text (text files).
        image: field of the image path (image files).
        labels: field of the labels.
        separator: separator of the labels in one CSV/TSV field.
        label_count: the last this many ARFF attributes are labels.
    """

    text: str = "text"
    image: str = "image"
    labels: str = "labels"
    separator: str = ";"
    label_count: int | None = None


@dataclasses.dataclass
class Examples:
    """The examples of one file.

    Attributes:
        path: the file.
        inputs: texts, absolute image paths, or a float32 feature matrix.
        label_sets: the labels of each example (empty: unlabelled), or None
            for a file without a labels field (inputs to predict).
        lines: the line of each example in the file.
        skipped: `(line, reason)` of every row skipped as malformed.
        feature_names: the feature columns of tabular data.
    """

    path: Path
    inputs: list | np.ndarray
    label_sets: list[list[str]] | None
    lines: list[int]
    skipped: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    feature_names: list[str] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def labels(self) -> list[list[str]]:
        """`label_sets`, required: a named error for a file without them."""
        if self.label_sets is None:
            raise ValueError(f"{self.path}: the file has no labels field.")
        return self.label_sets

    @property
    def unlabelled(self) -> int:
        return 0 if self.label_sets is None else sum(not s for s in self.label_sets)


def read_examples(
    path: str | Path,
    kind: str,
    fields: FileFields = FileFields(),
    skip_bad_rows: bool = False,
    labels_required: bool = True,
    feature_names: list[str] | None = None,
) -> Examples:
    """Reads and checks the examples of `path`.

    Args:
        path: a `.jsonl`, `.csv`, `.tsv` (or `.tab`), or for tabular data
            `.arff` file.
        kind: `"text"`, `"images"` or `"tabular"`.
        fields: where inputs and labels are.
        skip_bad_rows: skip malformed rows (listed in `Examples.skipped`)
            instead of raising.
        labels_required: a file without the labels field is an error (else
            its examples get `label_sets=None`: inputs to predict).
        feature_names: tabular: the feature columns expected (those of the
            training file); default: every column but the labels.

    Raises:
        FileNotFoundError: no such file.
        DataFileError: an unknown format, an empty file or a malformed row
            (naming the file and line).
    """
    chunks = list(
        iter_examples(
            path, kind, fields, skip_bad_rows, labels_required, feature_names, None
        )
    )
    if len(chunks) != 1 or not len(chunks[0]):
        skipped = sum(len(chunk.skipped) for chunk in chunks)
        detail = f" ({skipped} rows skipped)" if skipped else ""
        raise DataFileError(f"{path} holds no examples{detail}.")
    return chunks[0]


def iter_examples(
    path: str | Path,
    kind: str,
    fields: FileFields = FileFields(),
    skip_bad_rows: bool = False,
    labels_required: bool = True,
    feature_names: list[str] | None = None,
    chunk_size: int | None = 10_000,
) -> Iterator[Examples]:
    """`read_examples` in chunks of at most `chunk_size` examples (all in
    one without a size), streamed: a file of any length in bounded memory.
    The last chunk may hold only skipped rows."""
    path = Path(path)
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}; received {kind!r}.")
    if not path.is_file():
        raise FileNotFoundError(f"Data file not found: {path}.")
    form = FORMATS.get(path.suffix.lower())
    if form is None or (form == "arff" and kind != "tabular"):
        allowed = [s for s, f in FORMATS.items() if f != "arff" or kind == "tabular"]
        raise DataFileError(
            f"{path}: unknown format {path.suffix!r}; {kind} data must be one of "
            f"{allowed}."
        )
    if form == "jsonl":
        rows = _jsonl_rows(path)
    elif form == "arff":
        rows = _arff_rows(path, fields)
    else:
        rows = _csv_rows(path, "," if form == "csv" else "\t")
    reader = _Reader(path, kind, fields, skip_bad_rows, labels_required, feature_names)
    try:
        for line, row in rows:
            reader.add(line, row)
            if chunk_size and len(reader.lines) >= chunk_size:
                yield reader.examples()
                reader = reader.next_chunk()
    except UnicodeDecodeError as error:
        raise DataFileError(f"{path}: not UTF-8 text ({error.reason}).") from None
    if reader.lines or reader.skipped or not chunk_size:
        yield reader.examples()


class _Reader:
    """Checks rows `(line, mapping)` one by one into examples."""

    def __init__(self, path, kind, fields, skip, labels_required, feature_names):
        self.path, self.kind, self.fields = path, kind, fields
        self.skip, self.labels_required = skip, labels_required
        self.feature_names = feature_names
        self.inputs: list = []
        self.label_sets: list[list[str]] = []
        self.lines: list[int] = []
        self.skipped: list[tuple[int, str]] = []
        self.has_labels: bool | None = None

    def add(self, line: int, row: dict | str) -> None:
        try:
            if isinstance(row, str):
                raise ValueError(row)  # the row itself is malformed
            self._add(line, row)
        except ValueError as error:
            if not self.skip:
                raise DataFileError(f"{self.path}, line {line}: {error}") from None
            self.skipped.append((line, str(error)))

    def next_chunk(self) -> _Reader:
        """An empty reader that goes on with this one's file and columns."""
        reader = _Reader(
            self.path,
            self.kind,
            self.fields,
            self.skip,
            self.labels_required,
            self.feature_names,
        )
        reader.has_labels = self.has_labels
        return reader

    def _add(self, line: int, row: dict) -> None:
        has_labels = self.fields.labels in row
        if self.has_labels is None:
            if not has_labels and self.labels_required:
                raise ValueError(f"no {self.fields.labels!r} field (the labels).")
            self.has_labels = has_labels
        labels = self._labels(row.get(self.fields.labels)) if self.has_labels else []
        self.inputs.append(self._input(row))
        self.label_sets.append(labels)
        self.lines.append(line)

    def _input(self, row: dict):
        if self.kind == "tabular":
            return self._features(row)
        field = self.fields.text if self.kind == "text" else self.fields.image
        if field not in row:
            raise ValueError(f"no {field!r} field.")
        value = row[field]
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{field!r} must be a non-empty string; got {value!r}.")
        if self.kind == "text":
            return value
        image = (self.path.parent / value).resolve()
        if not image.is_file():
            raise ValueError(f"image {value!r} not found (looked for {image}).")
        _check_decodes(image)
        return str(image)

    def _features(self, row: dict) -> list[float]:
        names = [key for key in row if key != self.fields.labels]
        if self.feature_names is None:
            self.feature_names = names
        if names != self.feature_names:
            missing = sorted(set(self.feature_names) - set(names))
            extra = sorted(set(names) - set(self.feature_names))
            raise ValueError(
                f"feature columns differ from the first row's: missing {missing}, "
                f"extra {extra}."
            )
        values = []
        for name in names:
            value = row[name]
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"feature {name!r} is not a number: {value!r}."
                ) from None
            if not np.isfinite(number):
                raise ValueError(f"feature {name!r} is not finite: {value!r}.")
            values.append(number)
        return values

    def _labels(self, value) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):  # CSV, TSV: one joined field
            labels = [p.strip() for p in value.split(self.fields.separator)]
            labels = [label for label in labels if label]
        elif isinstance(value, list) and all(
            isinstance(label, (str, int)) and not isinstance(label, bool)
            for label in value
        ):
            labels = [str(label).strip() for label in value]
            if not all(labels):
                raise ValueError("a label is an empty string.")
        else:
            raise ValueError(
                f"{self.fields.labels!r} must be a list of strings; got "
                f"{json.dumps(value)[:80]}."
            )
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"label {repeated[0]!r} appears twice in one row.")
        return labels

    def examples(self) -> Examples:
        inputs: list | np.ndarray = self.inputs
        if self.kind == "tabular":
            width = len(self.feature_names or ())
            inputs = np.asarray(inputs, "float32").reshape(len(self.lines), width)
        return Examples(
            self.path,
            inputs,
            self.label_sets if self.has_labels else None,
            self.lines,
            self.skipped,
            self.feature_names,
        )


def _check_decodes(image: Path) -> None:
    import tensorflow as tf

    try:
        tf.io.decode_image(tf.io.read_file(str(image)), expand_animations=False)
    except tf.errors.OpError:
        raise ValueError(f"image {image} does not decode (not an image?).") from None


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict | str]]:
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as error:
                yield line, f"invalid JSON: {error.msg} (column {error.colno})."
                continue
            if not isinstance(row, dict):
                yield line, f"expected a JSON object, got {type(row).__name__}."
                continue
            yield line, row


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[int, dict | str]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return
        header = [name.strip() for name in header]
        start = 2
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield start, f"unreadable row: {error}."
                start = reader.line_num + 1
                continue
            if row and any(cell.strip() for cell in row):
                if len(row) != len(header):
                    yield start, f"expected {len(header)} fields, found {len(row)}."
                else:
                    yield start, dict(zip(header, row, strict=True))
            start = reader.line_num + 1


def _arff_rows(path: Path, fields: FileFields) -> Iterator[tuple[int, dict | str]]:
    """MULAN ARFF rows as `{feature: value, ..., labels: [names]}`."""
    attributes: list[str] = []
    data_line = None
    lines = path.read_text("utf-8").splitlines()
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        lowered = stripped.lower()
        if lowered.startswith("@attribute"):
            match = re.match(r"@attribute\s+('[^']*'|\"[^\"]*\"|\S+)", stripped, re.I)
            if not match:
                raise DataFileError(f"{path}, line {number}: malformed @attribute.")
            attributes.append(match.group(1).strip("'\""))
        elif lowered.startswith("@data"):
            data_line = number
            break
    if data_line is None:
        raise DataFileError(f"{path}: no @data section: not an ARFF file.")
    label_names = _arff_labels(path, attributes, fields.label_count)
    is_label = [name in label_names for name in attributes]
    for number in range(data_line + 1, len(lines) + 1):
        text = lines[number - 1].strip()
        if not text or text.startswith("%"):
            continue
        values = _arff_values(text, len(attributes))
        if isinstance(values, str):
            yield number, values
            continue
        row: dict = {}
        labels = []
        for name, label, value in zip(attributes, is_label, values, strict=True):
            if not label:
                row[name] = value
            elif value not in ("0", "1"):
                yield number, f"label {name!r} must be 0 or 1; got {value!r}."
                break
            elif value == "1":
                labels.append(name)
        else:
            row[fields.labels] = labels
            yield number, row


def _arff_values(text: str, width: int) -> list[str] | str:
    if text.startswith("{"):
        if not text.endswith("}"):
            return "a sparse row must end with '}'."
        values = ["0"] * width
        for item in filter(None, (p.strip() for p in text[1:-1].split(","))):
            index, _, value = item.partition(" ")
            if not index.isdigit() or int(index) >= width:
                return f"bad sparse entry {item!r}."
            values[int(index)] = value.strip()
        return values
    values = [value.strip().strip("'\"") for value in text.split(",")]
    if len(values) != width:
        return f"expected {width} values, found {len(values)}."
    return values


def _arff_labels(path: Path, attributes: list[str], label_count: int | None) -> set:
    if label_count is not None:
        if label_count >= len(attributes):
            raise DataFileError(
                f"{path}: label_count {label_count} leaves no feature among "
                f"{len(attributes)} attributes."
            )
        return set(attributes[-label_count:])
    xml = path.with_suffix(".xml")
    if not xml.is_file():
        raise DataFileError(
            f"{path}: which attributes are labels? Put MULAN's {xml.name} beside "
            "it or give --label-count."
        )
    names = set(re.findall(r"<label\s+name=\"([^\"]+)\"", xml.read_text("utf-8")))
    unknown = sorted(names - set(attributes))
    if not names or unknown:
        raise DataFileError(
            f"{xml}: labels {unknown or '(none)'} are not attributes of {path.name}."
        )
    return names
