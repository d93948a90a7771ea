"""Aggregate the cross-validation folds: mean and standard deviation over folds of the held-out-fold
metric for every (value, epoch), and the chosen value and epoch."""

from __future__ import annotations

from ..atomic import atomic_path, write_json
from ..crossval import aggregate, choose, cv_values, read_fold_metrics, value_key


def aggregate_folds(metrics: list[str], table_out: str, best_out: str, cv: dict) -> None:
    keys = [value_key(v) for v in cv_values(cv)]
    values = dict(zip(keys, cv_values(cv), strict=True))
    table = aggregate(read_fold_metrics(metrics), cv["metric"])
    best = choose(table, cv["metric"], keys)
    with atomic_path(table_out) as tmp:
        table.to_csv(tmp, index=False)
    write_json(
        best_out,
        {
            "parameter": cv["parameter"],
            "value": values[best["value_key"]],
            **best,
            "folds": cv["folds"],
            "values": cv_values(cv),
            "tie_rule": "highest fold-mean metric; ties: the value listed first, then the earliest epoch",
        },
    )
