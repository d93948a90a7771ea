"""Split the labeled micrographs into training and test sets (by micrograph, seeded)."""

from __future__ import annotations

from ..io.coordinates import read_table
from ..training.split import train_test_split


def split_labels(labels: str, output: str, test_fraction: float, seed: int) -> None:
    train_test_split(read_table(labels), test_fraction, seed).write(output)
