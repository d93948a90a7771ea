"""Split the labeled micrographs into training and test sets (by micrograph, seeded)."""

from __future__ import annotations

from ..atomic import write_json
from ..coordinates import read_table
from ..split import train_test_split


def split_labels(labels: str, output: str, test_fraction: float, seed: int) -> None:
    write_json(output, train_test_split(read_table(labels), test_fraction, seed))
