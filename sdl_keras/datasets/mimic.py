"""MIMIC-III and MIMIC-IV ICD coding from a user's PhysioNet download.

MIMIC is credentialed data: nothing of it ships here. Files are read as
`.csv` or `.csv.gz`, streamed row by row (NOTEEVENTS is 4 GB): only the
cleaned text of discharge summaries and the codes of each admission are kept.

MIMIC-III (Mullenbach et al. 2018, the splits every ICD-coding paper uses):
discharge summaries (CATEGORY "Discharge summary", the report first, then its
addenda) joined per admission; diagnosis and procedure codes from
DIAGNOSES_ICD and PROCEDURES_ICD with their dots put back (diagnoses after 3
characters, E-codes after 4, procedures after 2, so the two never collide).
Text: `\\w+` tokens, lower-cased, purely numeric tokens dropped. MIMIC-IV:
`hosp/diagnoses_icd`, `hosp/procedures_icd` (ICD-9 or ICD-10 by
`icd_version`; ICD-10 diagnoses get a dot after 3 characters, ICD-10-PCS
procedures none) and `note/discharge`, joined in `note_seq` order.

Splits come from `{train,dev,test}_{full,50}_hadm_ids.csv` (one HADM_ID a
line) when found; otherwise patients (never admissions, so no patient is in
two parts) are split 90 / 3 / 7 % by a seeded permutation.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import gzip
import re
import sys
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from sdl_keras.data.label_vocabulary import LabelVocabulary

SPLITS = ("train", "dev", "test")
PATIENT_FRACTIONS = (0.90, 0.03, 0.07)
_TOKEN = re.compile(r"\w+")
_OBTAIN = (
    "MIMIC is credentialed data: request access and download it from "
    "https://physionet.org/content/{dataset}/ (the `{file}` table), then pass "
    "its directory."
)


@dataclasses.dataclass
class MimicData:
    """One MIMIC task, split.

    Attributes:
        texts: split name → cleaned discharge texts.
        labels: split name → multi-hot `[N, L]`.
        hadm_ids: split name → admission ids, aligned with `texts`.
        vocabulary: the codes (counts from the training split).
        missing: split name → admissions listed in a split file but without
            a discharge summary or a code of the label set.
    """

    texts: dict[str, list[str]]
    labels: dict[str, np.ndarray]
    hadm_ids: dict[str, list[int]]
    vocabulary: LabelVocabulary
    missing: dict[str, int]


def clean_text(text: str) -> str:
    """`\\w+` tokens, lower-cased, purely numeric tokens dropped."""
    return " ".join(
        token for token in _TOKEN.findall(text.lower()) if not token.isnumeric()
    )


def format_icd9(code: str, procedure: bool) -> str:
    """ICD-9 with its dot: procedures after 2 characters, E-codes after 4,
    other diagnoses after 3."""
    code = code.strip()
    position = 2 if procedure else (4 if code.startswith("E") else 3)
    return code if len(code) <= position else f"{code[:position]}.{code[position:]}"


def format_icd10(code: str, procedure: bool) -> str:
    """ICD-10-CM diagnoses with a dot after 3 characters; ICD-10-PCS as is."""
    code = code.strip()
    if procedure or len(code) <= 3:
        return code
    return f"{code[:3]}.{code[3:]}"


def find_table(directory: str | Path, name: str, dataset: str) -> Path:
    """`name.csv.gz` or `name.csv` in `directory`, else a clear error."""
    directory = Path(directory)
    for candidate in (f"{name}.csv.gz", f"{name}.csv"):
        if (directory / candidate).exists():
            return directory / candidate
    raise FileNotFoundError(
        f"{name}.csv(.gz) not found in {directory}. "
        + _OBTAIN.format(dataset=dataset, file=name)
    )


def read_rows(path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict]]:
    """Rows of a CSV as dictionaries with their line numbers, streamed.

    Quoted fields may span lines (note texts do); a row with the wrong
    number of fields is an error naming the file and line.
    """
    csv.field_size_limit(sys.maxsize)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        try:
            yield from _checked_rows(path, reader, required)
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{path}, line {reader.line_num + 1}: not UTF-8 text ({error.reason})."
            ) from None
        except (EOFError, OSError, zlib.error) as error:
            raise ValueError(
                f"{path}, line {reader.line_num + 1}: the file is truncated or "
                f"corrupt ({error})."
            ) from None


def _checked_rows(path: Path, reader, required: Sequence[str]):
    """The header check, then `(line, row)` pairs of a CSV reader."""
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError(f"{path} is empty.") from None
    missing = [column for column in required if column not in header]
    if missing:
        raise ValueError(f"{path}: columns {missing} missing from the header {header}.")
    start = 2
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ValueError(f"{path}, line {reader.line_num}: {error}") from None
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {start}: expected {len(header)} fields, found "
                f"{len(row)}."
            )
        yield start, dict(zip(header, row, strict=True))
        start = reader.line_num + 1


def _integer(value: str, path: Path, line: int, column: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        raise ValueError(
            f"{path}, line {line}: {column} {value!r} is not a number."
        ) from None


def load_mimic_iii(
    directory: str | Path,
    codes: str = "50",
    splits_dir: str | Path | None = None,
    seed: int = 0,
) -> MimicData:
    """MIMIC-III-50 or MIMIC-III-full from the CSV tables in `directory`.

    Args:
        directory: holds NOTEEVENTS, DIAGNOSES_ICD and PROCEDURES_ICD.
        codes: `"50"` (the 50 most frequent codes; admissions with none are
            left out) or `"full"`.
        splits_dir: where the `*_hadm_ids.csv` files are; defaults to
            `directory`.
        seed: seeds the patient split used when no split files are found.
    """
    _check_codes(codes)
    directory = Path(directory)
    notes_path = find_table(directory, "NOTEEVENTS", "mimiciii")
    notes: dict[int, list[tuple]] = collections.defaultdict(list)
    subjects: dict[int, int] = {}
    required = ("SUBJECT_ID", "HADM_ID", "CHARTTIME", "CATEGORY", "TEXT")
    for line, row in read_rows(notes_path, required):
        if row["CATEGORY"].strip() != "Discharge summary" or not row["HADM_ID"]:
            continue
        hadm = _integer(row["HADM_ID"], notes_path, line, "HADM_ID")
        subjects[hadm] = _integer(row["SUBJECT_ID"], notes_path, line, "SUBJECT_ID")
        addendum = row.get("DESCRIPTION", "Report").strip() != "Report"
        order = (addendum, row["CHARTTIME"] or row.get("CHARTDATE", ""), line)
        notes[hadm].append((order, clean_text(row["TEXT"])))
    codes_of: dict[int, set[str]] = collections.defaultdict(set)
    for table, procedure in (("DIAGNOSES_ICD", False), ("PROCEDURES_ICD", True)):
        path = find_table(directory, table, "mimiciii")
        for line, row in read_rows(
            path, ("SUBJECT_ID", "HADM_ID", "SEQ_NUM", "ICD9_CODE")
        ):
            if row["ICD9_CODE"].strip():
                hadm = _integer(row["HADM_ID"], path, line, "HADM_ID")
                codes_of[hadm].add(format_icd9(row["ICD9_CODE"], procedure))
    return _assemble(notes, codes_of, subjects, codes, splits_dir or directory, seed)


def load_mimic_iv(
    directory: str | Path,
    icd_version: int = 9,
    codes: str = "full",
    note_dir: str | Path | None = None,
    splits_dir: str | Path | None = None,
    seed: int = 0,
) -> MimicData:
    """MIMIC-IV (v2.2) ICD-9 or ICD-10 coding.

    Args:
        directory: the MIMIC-IV root, holding `hosp/`.
        icd_version: 9 or 10.
        codes: `"50"` or `"full"`.
        note_dir: the MIMIC-IV-Note `note/` directory; defaults to
            `directory/note`.
        splits_dir: where `*_hadm_ids.csv` files are; defaults to
            `directory`.
        seed: seeds the patient split used when no split files are found.
    """
    _check_codes(codes)
    if icd_version not in (9, 10):
        raise ValueError(f"`icd_version` must be 9 or 10; received {icd_version}.")
    directory = Path(directory)
    notes_path = find_table(
        Path(note_dir or directory / "note"), "discharge", "mimic-iv-note"
    )
    notes: dict[int, list[tuple]] = collections.defaultdict(list)
    subjects: dict[int, int] = {}
    for line, row in read_rows(
        notes_path, ("subject_id", "hadm_id", "note_seq", "text")
    ):
        if not row["hadm_id"]:
            continue
        hadm = _integer(row["hadm_id"], notes_path, line, "hadm_id")
        subjects[hadm] = _integer(row["subject_id"], notes_path, line, "subject_id")
        order = (_integer(row["note_seq"], notes_path, line, "note_seq"), line)
        notes[hadm].append((order, clean_text(row["text"])))
    formatter = format_icd9 if icd_version == 9 else format_icd10
    codes_of: dict[int, set[str]] = collections.defaultdict(set)
    for table, procedure in (("diagnoses_icd", False), ("procedures_icd", True)):
        path = find_table(directory / "hosp", table, "mimiciv")
        required = ("subject_id", "hadm_id", "icd_code", "icd_version")
        for line, row in read_rows(path, required):
            version = _integer(row["icd_version"], path, line, "icd_version")
            if version == icd_version and row["icd_code"].strip():
                hadm = _integer(row["hadm_id"], path, line, "hadm_id")
                codes_of[hadm].add(formatter(row["icd_code"], procedure))
    return _assemble(notes, codes_of, subjects, codes, splits_dir or directory, seed)


def _check_codes(codes: str) -> None:
    # Before any reading: a typo should not cost a pass over NOTEEVENTS.
    if codes not in ("50", "full"):
        raise ValueError(f"`codes` must be '50' or 'full'; received {codes!r}.")


def _assemble(
    notes, codes_of, subjects, codes: str, splits_dir, seed: int
) -> MimicData:
    admissions = sorted(hadm for hadm in notes if codes_of.get(hadm))
    if not admissions:
        raise ValueError("No admission has both a discharge summary and a code.")
    kept_codes = None
    if codes == "50":
        counts = collections.Counter(c for hadm in admissions for c in codes_of[hadm])
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept_codes = {code for code, _ in ranked[:50]}
        admissions = [hadm for hadm in admissions if codes_of[hadm] & kept_codes]

    def label_set(hadm: int) -> set[str]:
        return codes_of[hadm] if kept_codes is None else codes_of[hadm] & kept_codes

    parts, missing = _split(admissions, subjects, codes, Path(splits_dir), seed)
    vocabulary = LabelVocabulary.from_label_sets(
        label_set(hadm) for hadm in parts["train"]
    )
    if kept_codes is not None:
        absent = sorted(kept_codes - set(vocabulary.codes))
        vocabulary = LabelVocabulary(
            vocabulary.codes + absent, [*(vocabulary.counts or ()), *[0] * len(absent)]
        )
    texts = {
        name: [" ".join(text for _, text in sorted(notes[hadm])) for hadm in ids]
        for name, ids in parts.items()
    }
    labels = {
        name: vocabulary.encode((label_set(hadm) for hadm in ids), unknown="ignore")
        for name, ids in parts.items()
    }
    return MimicData(texts, labels, parts, vocabulary, missing)


def _split(admissions, subjects, codes: str, splits_dir: Path, seed: int):
    files = {name: splits_dir / f"{name}_{codes}_hadm_ids.csv" for name in SPLITS}
    available = set(admissions)
    if all(path.exists() for path in files.values()):
        parts, missing = {}, {}
        for name, path in files.items():
            try:
                lines = path.read_text("utf-8").splitlines()
            except UnicodeDecodeError as error:
                raise ValueError(f"{path}: not UTF-8 text ({error.reason}).") from None
            listed = [
                _integer(text.strip(), path, line, "HADM_ID")
                for line, text in enumerate(lines, start=1)
                if text.strip()
            ]
            parts[name] = [hadm for hadm in listed if hadm in available]
            missing[name] = len(listed) - len(parts[name])
        return parts, missing
    patients = np.array(sorted({subjects[hadm] for hadm in admissions}))
    order = np.random.default_rng(seed).permutation(len(patients))
    bounds = np.cumsum([round(f * len(patients)) for f in PATIENT_FRACTIONS[:2]])
    part_of = {}
    for name, chosen in zip(SPLITS, np.split(patients[order], bounds), strict=True):
        part_of.update(dict.fromkeys(chosen.tolist(), name))
    parts = {
        name: [h for h in admissions if part_of[subjects[h]] == name] for name in SPLITS
    }
    return parts, dict.fromkeys(SPLITS, 0)
