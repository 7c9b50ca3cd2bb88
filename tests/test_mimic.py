"""MIMIC-III / IV loading on tiny fixtures in the real files' column layout."""

import csv
import gzip

import numpy as np
import pytest

from sdl_keras.datasets import mimic
from tests.conftest import run_example

NOTE_HEADER = [
    "ROW_ID",
    "SUBJECT_ID",
    "HADM_ID",
    "CHARTDATE",
    "CHARTTIME",
    "STORETIME",
    "CATEGORY",
    "DESCRIPTION",
    "CGID",
    "ISERROR",
    "TEXT",
]
CODE_HEADER = ["ROW_ID", "SUBJECT_ID", "HADM_ID", "SEQ_NUM", "ICD9_CODE"]


def write_csv(path, header, rows, compress=False):
    opener = gzip.open if compress else open
    with opener(path, "wt", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)


def note(row_id, subject, hadm, category, description, text):
    return [
        row_id,
        subject,
        hadm,
        "2150-01-01",
        "",
        "",
        category,
        description,
        "",
        "",
        text,
    ]


@pytest.fixture
def mimic_iii(tmp_path):
    return write_mimic_iii(tmp_path)


def write_mimic_iii(directory):
    """Four admissions of three patients in MIMIC-III's files and columns."""
    notes = [
        note(1, 10, 100, "Discharge summary", "Addendum", "Addendum: pt stable."),
        note(
            2,
            10,
            100,
            "Discharge summary",
            "Report",
            "Admission Date:\n[**2150-1-1**]\nHe has 2 CHF.",
        ),
        note(3, 11, 101, "Radiology", "CT", "ignored radiology text"),
        note(4, 11, 101, "Discharge summary", "Report", "Sepsis, E-coli; treated"),
        note(5, 12, 102, "Discharge summary", "Report", "Hypertension only"),
        note(6, 12, "", "Discharge summary", "Report", "no admission id"),
        note(7, 13, 103, "Discharge summary", "Report", "no codes here"),
    ]
    write_csv(directory / "NOTEEVENTS.csv.gz", NOTE_HEADER, notes, compress=True)
    diagnoses = [
        [1, 10, 100, 1, "4280"],
        [2, 10, 100, 2, "E8490"],
        [3, 11, 101, 1, "0389"],
        [4, 11, 101, 2, "4280"],
        [5, 12, 102, 1, "4019"],
        [6, 12, 102, 2, ""],
    ]
    write_csv(directory / "DIAGNOSES_ICD.csv", CODE_HEADER, diagnoses)
    procedures = [[1, 10, 100, 1, "3893"], [2, 11, 101, 1, "9604"]]
    write_csv(
        directory / "PROCEDURES_ICD.csv.gz", CODE_HEADER, procedures, compress=True
    )
    return directory


def test_codes_get_their_dots():
    assert mimic.format_icd9("4280", False) == "428.0"
    assert mimic.format_icd9("E8490", False) == "E849.0"
    assert mimic.format_icd9("V1582", False) == "V15.82"
    assert mimic.format_icd9("3893", True) == "38.93"
    assert mimic.format_icd9("401", False) == "401"
    assert mimic.format_icd10("I5023", False) == "I50.23"
    assert mimic.format_icd10("02HV33Z", True) == "02HV33Z"
    assert (
        mimic.clean_text("He has 2 CHF, [**2150-1-1**] e-coli") == "he has chf e coli"
    )


def test_mimic_iii_with_split_files(mimic_iii):
    for name, ids in {"train": [100, 102], "dev": [101], "test": [103, 999]}.items():
        (mimic_iii / f"{name}_full_hadm_ids.csv").write_text(
            "\n".join(map(str, ids)) + "\n"
        )
    data = mimic.load_mimic_iii(mimic_iii, codes="full")
    assert data.hadm_ids == {"train": [100, 102], "dev": [101], "test": []}
    assert data.missing == {"train": 0, "dev": 0, "test": 2}
    # The report first, then its addendum; numbers and de-identification digits gone.
    assert data.texts["train"][0] == "admission date he has chf addendum pt stable"
    assert data.texts["dev"] == ["sepsis e coli treated"]
    assert data.vocabulary.codes == ["38.93", "401.9", "428.0", "E849.0"]
    assert data.vocabulary.decode(data.labels["train"]) == [
        ["38.93", "428.0", "E849.0"],
        ["401.9"],
    ]
    # Codes unseen in training (038.9, 96.04) are not in the label set.
    assert data.labels["dev"].tolist() == [[0, 0, 1, 0]]


def test_mimic_iii_top_codes_and_patient_split(mimic_iii):
    data = mimic.load_mimic_iii(mimic_iii, codes="50")
    everything = [hadm for name in mimic.SPLITS for hadm in data.hadm_ids[name]]
    assert sorted(everything) == [100, 101, 102]  # 103 has no code
    assert sorted(data.vocabulary.codes) == [
        "038.9",
        "38.93",
        "401.9",
        "428.0",
        "96.04",
        "E849.0",
    ]
    again = mimic.load_mimic_iii(mimic_iii, codes="50")
    assert again.hadm_ids == data.hadm_ids


def test_patient_split_keeps_patients_whole(tmp_path):
    rng = np.random.default_rng(0)
    notes, codes = [], []
    for hadm in range(400):
        subject = hadm // 3  # three admissions a patient
        notes.append(
            note(
                hadm,
                subject,
                1000 + hadm,
                "Discharge summary",
                "Report",
                f"text {hadm}",
            )
        )
        codes.append(
            [hadm, subject, 1000 + hadm, 1, rng.choice(["4280", "4019", "5849"])]
        )
    write_csv(tmp_path / "NOTEEVENTS.csv", NOTE_HEADER, notes)
    write_csv(tmp_path / "DIAGNOSES_ICD.csv", CODE_HEADER, codes)
    write_csv(tmp_path / "PROCEDURES_ICD.csv", CODE_HEADER, [])
    data = mimic.load_mimic_iii(tmp_path, codes="full", seed=3)
    patients = {
        name: {(hadm - 1000) // 3 for hadm in ids}
        for name, ids in data.hadm_ids.items()
    }
    assert (
        not patients["train"] & patients["test"]
        and not patients["dev"] & patients["test"]
    )
    assert 0.85 < len(data.hadm_ids["train"]) / 400 < 0.95


def test_mimic_iv_icd10(tmp_path):
    (tmp_path / "hosp").mkdir()
    (tmp_path / "note").mkdir()
    write_csv(
        tmp_path / "note" / "discharge.csv.gz",
        [
            "note_id",
            "subject_id",
            "hadm_id",
            "note_type",
            "note_seq",
            "charttime",
            "storetime",
            "text",
        ],
        [
            ["1-DS-2", 1, 20, "DS", 2, "", "", "second part"],
            ["1-DS-1", 1, 20, "DS", 1, "", "", "First part"],
            ["2-DS-1", 2, 21, "DS", 1, "", "", "other"],
        ],
        compress=True,
    )
    header = ["subject_id", "hadm_id", "seq_num", "icd_code", "icd_version"]
    write_csv(
        tmp_path / "hosp" / "diagnoses_icd.csv.gz",
        header,
        [[1, 20, 1, "I5023", 10], [1, 20, 2, "4280", 9], [2, 21, 1, "N179", 10]],
        compress=True,
    )
    write_csv(
        tmp_path / "hosp" / "procedures_icd.csv.gz",
        ["subject_id", "hadm_id", "seq_num", "chartdate", "icd_code", "icd_version"],
        [[1, 20, 1, "2150-01-01", "02HV33Z", 10]],
        compress=True,
    )
    for name, ids in {"train": [20, 21], "dev": [], "test": [21]}.items():
        (tmp_path / f"{name}_full_hadm_ids.csv").write_text(
            "".join(f"{i}\n" for i in ids)
        )
    data = mimic.load_mimic_iv(tmp_path, icd_version=10)
    assert data.texts["train"] == ["first part second part", "other"]
    assert data.vocabulary.decode(data.labels["train"]) == [
        ["02HV33Z", "I50.23"],
        ["N17.9"],
    ]
    nine = mimic.load_mimic_iv(tmp_path, icd_version=9, splits_dir=tmp_path / "none")
    assert sum(len(ids) for ids in nine.hadm_ids.values()) == 1


def test_errors_name_the_file_and_line(mimic_iii, tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"NOTEEVENTS.csv\(.gz\) not found.*physionet"
    ):
        mimic.load_mimic_iii(tmp_path / "nowhere")
    write_csv(
        mimic_iii / "DIAGNOSES_ICD.csv", CODE_HEADER, [[1, 10, 100, 1, "4280"], [2, 10]]
    )
    with pytest.raises(
        ValueError, match=r"DIAGNOSES_ICD.csv, line 3: expected 5 fields, found 2"
    ):
        mimic.load_mimic_iii(mimic_iii)
    write_csv(mimic_iii / "DIAGNOSES_ICD.csv", CODE_HEADER, [[1, 10, "x1", 1, "4280"]])
    with pytest.raises(ValueError, match=r"line 2: HADM_ID 'x1' is not a number"):
        mimic.load_mimic_iii(mimic_iii)
    write_csv(mimic_iii / "DIAGNOSES_ICD.csv", ["ROW_ID", "HADM_ID"], [[1, 100]])
    with pytest.raises(
        ValueError, match=r"columns \['SUBJECT_ID', 'SEQ_NUM', 'ICD9_CODE'\] missing"
    ):
        mimic.load_mimic_iii(mimic_iii)
    with pytest.raises(ValueError, match="codes"):
        mimic.load_mimic_iii(mimic_iii, codes="100")


def test_line_numbers_count_multi_line_notes(tmp_path):
    rows = [
        note(1, 1, 1, "Discharge summary", "Report", "line one\nline two\nline three")
    ]
    write_csv(tmp_path / "NOTEEVENTS.csv", NOTE_HEADER, rows)
    with open(tmp_path / "NOTEEVENTS.csv", "a") as handle:
        handle.write("2,1,1,broken\n")
    with pytest.raises(ValueError, match="line 5: expected 11 fields"):
        list(mimic.read_rows(tmp_path / "NOTEEVENTS.csv", ["TEXT"]))


def test_train_mimic_example_runs_on_a_fixture(tmp_path):
    import json

    rng = np.random.default_rng(0)
    words = ["fever", "cough", "heart", "failure", "renal", "sepsis", "pain", "rash"]
    notes, codes = [], []
    for hadm in range(160):
        chosen = rng.choice(["4280", "4019", "5849", "0389"], rng.integers(1, 3), False)
        text = " ".join(rng.choice(words, 20))
        notes.append(
            note(hadm, hadm // 2, 1000 + hadm, "Discharge summary", "Report", text)
        )
        codes += [
            [hadm, hadm // 2, 1000 + hadm, i, code] for i, code in enumerate(chosen)
        ]
    write_csv(tmp_path / "NOTEEVENTS.csv.gz", NOTE_HEADER, notes, compress=True)
    write_csv(tmp_path / "DIAGNOSES_ICD.csv.gz", CODE_HEADER, codes, compress=True)
    write_csv(tmp_path / "PROCEDURES_ICD.csv.gz", CODE_HEADER, [], compress=True)
    output = tmp_path / "results.json"
    done = run_example(
        "train_mimic",
        "--mimic-dir",
        str(tmp_path),
        "--codes",
        "full",
        "--losses",
        "none",
        "sdl",
        "--seeds",
        "0",
        "--pretrain-epochs",
        "1",
        "--classifier-epochs",
        "2",
        "--max-length",
        "16",
        "--batch-size",
        "16",
        "--output",
        str(output),
    )
    written = json.loads(output.read_text())
    assert set(written["results"]) == {"none", "sdl"}
    assert written["labels"]["codes"][0] in {"428.0", "401.9", "584.9", "038.9"}
    assert (
        "precision_at_5" not in written["results"]["sdl"][0]["tuned"]
    )  # only 4 labels
    assert "| sdl |" in done.stdout


def test_truncated_and_non_utf8_files_are_named(mimic_iii):
    notes = mimic_iii / "NOTEEVENTS.csv.gz"
    whole = notes.read_bytes()
    notes.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"NOTEEVENTS.csv.gz, line \d+: .*truncated"):
        mimic.load_mimic_iii(mimic_iii)
    notes.write_bytes(whole)
    diagnoses = mimic_iii / "DIAGNOSES_ICD.csv"
    diagnoses.write_bytes(diagnoses.read_bytes() + b'7,12,102,3,"\xff\xfe"\n')
    with pytest.raises(ValueError, match=r"DIAGNOSES_ICD.csv, line \d+: not UTF-8"):
        mimic.load_mimic_iii(mimic_iii)


def test_command_line_names_a_damaged_mimic_file(mimic_iii):
    from tests.test_cli import assert_named_error, run_cli

    notes = mimic_iii / "NOTEEVENTS.csv.gz"
    notes.write_bytes(notes.read_bytes()[:-20])
    done = run_cli("train", "--task", "mimic3", "--data-dir", mimic_iii)
    assert_named_error(done, str(notes), "line", "truncated")
