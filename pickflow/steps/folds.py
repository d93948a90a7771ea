"""Cross-validation folds over the training micrographs of the split (never the test micrographs),
stratified by label count, seeded."""

from __future__ import annotations

from ..io.coordinates import read_table
from ..io.records import Folds, Split
from ..training.crossval import make_folds


def write_folds(labels: str, split: str, output: str, folds: int, seed: int) -> None:
    train = Split.read(split).train
    counts = read_table(labels)["micrograph"].value_counts()
    label_counts = {name: int(counts.get(name, 0)) for name in train}
    Folds(k=folds, seed=seed, label_counts=label_counts, folds=make_folds(label_counts, folds, seed)).write(output)
