"""Cross-validation folds over the training micrographs of the split (never the test micrographs),
stratified by label count, seeded."""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import write_json
from ..coordinates import read_table
from ..crossval import make_folds


def write_folds(labels: str, split: str, output: str, folds: int, seed: int) -> None:
    train = json.loads(Path(split).read_text())["train"]
    counts = read_table(labels)["micrograph"].value_counts()
    label_counts = {name: int(counts.get(name, 0)) for name in train}
    write_json(
        output, {"k": folds, "seed": seed, "label_counts": label_counts, "folds": make_folds(label_counts, folds, seed)}
    )
