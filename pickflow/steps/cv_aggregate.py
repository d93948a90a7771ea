"""Aggregate the cross-validation folds: mean and standard deviation over folds of the held-out-fold
metric for every (value, epoch), and the chosen value and epoch."""

from __future__ import annotations

from ..io.atomic import atomic_path
from ..training.crossval import aggregate, choose, read_fold_metrics


def aggregate_folds(metrics: list[str], table_out: str, best_out: str, cv: dict) -> None:
    table = aggregate(read_fold_metrics(metrics), cv["metric"])
    with atomic_path(table_out) as tmp:
        table.to_csv(tmp, index=False)
    choose(table, cv).write(best_out)
