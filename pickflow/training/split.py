"""Train/test split of the labeled micrographs, by micrograph, seeded."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..io.inputs import check_split_possible, test_count
from ..io.records import LabelCounts, Split

log = logging.getLogger(__name__)


def train_test_split(labels: pd.DataFrame, test_fraction: float, seed: int) -> Split:
    """Hold out ``test_fraction`` of the labeled micrographs (at least one when > 0)."""
    names = sorted(labels["micrograph"].unique())
    check_split_possible(len(names), test_fraction)
    n_test = test_count(len(names), test_fraction)
    if n_test == 0:
        log.warning(
            "split.test_fraction is 0: no held-out micrographs, so no best-epoch selection and no threshold from data"
        )
    order = np.random.default_rng(seed).permutation(len(names))
    test = sorted(names[i] for i in order[:n_test])
    train = sorted(names[i] for i in order[n_test:])
    counts = labels["micrograph"].value_counts()
    return Split(
        seed=seed,
        test_fraction=test_fraction,
        train=train,
        test=test,
        labels=LabelCounts(train=int(counts[train].sum()), test=int(counts[test].sum()) if test else 0),
    )
