"""Cross-validation over one training parameter: folds, the values tried, aggregation, the choice.

Folds are made over the labeled *training* micrographs (never the test split), by micrograph,
stratified by the number of labels per micrograph: micrographs are ordered by label count (ties in
a seeded random order) and each consecutive block of k gets the k folds in a seeded random order.
The best value is the argmax over (value, epoch) of the mean held-out-fold metric; ties go to the
value listed first and then the earliest epoch (the simpler, cheaper choice).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.records import CrossValidation, Fold

LOWER_IS_BETTER = ("loss",)


def cv_values(cv: dict) -> list:
    """The values to try: an explicit list, or initial + i*increment for i < count (cryoSPARC's form)."""
    if cv.get("values"):
        return list(cv["values"])
    return [round(cv["initial"] + i * cv["increment"], 12) for i in range(cv["count"])]


def value_key(value: object) -> str:
    """The value as it appears in output paths (keyed by value, so adding one only adds jobs)."""
    if isinstance(value, float):
        return format(value, "g") if math.isfinite(value) else str(value)
    return str(value)


def make_folds(label_counts: dict[str, int], k: int, seed: int) -> list[Fold]:
    """k folds of the micrographs in ``label_counts``, stratified by their label counts."""
    names = sorted(label_counts)
    if len(names) < k:
        raise ValueError(
            f"{len(names)} training micrographs cannot make {k} folds; lower cv.folds or label more micrographs"
        )
    rng = np.random.default_rng([seed, k])
    tie_break = rng.permutation(len(names))
    order = sorted(range(len(names)), key=lambda i: (label_counts[names[i]], tie_break[i]))
    fold_of = np.empty(len(names), dtype=int)
    for start in range(0, len(order), k):
        block = order[start : start + k]
        fold_of[block] = rng.permutation(k)[: len(block)]
    folds = []
    for fold in range(k):
        held_out = sorted(names[i] for i in range(len(names)) if fold_of[i] == fold)
        folds.append(Fold(train=sorted(set(names) - set(held_out)), test=held_out))
    return folds


def aggregate(tables: dict[tuple[str, int], pd.DataFrame], metric: str) -> pd.DataFrame:
    """Mean and standard deviation over folds of ``metric`` on the held-out fold, per (value, epoch)."""
    rows = []
    for (value, fold), metrics in tables.items():
        held_out = metrics[metrics["split"] == "test"]
        rows.append(pd.DataFrame({"value": value, "fold": fold, "epoch": held_out["epoch"], metric: held_out[metric]}))
    long = pd.concat(rows, ignore_index=True)
    grouped = long.groupby(["value", "epoch"], sort=False)[metric]
    table = grouped.agg(["mean", "std", "count"]).reset_index()
    return table.rename(columns={"mean": f"{metric}_mean", "std": f"{metric}_sd", "count": "folds"})


def choose(table: pd.DataFrame, cv: dict) -> CrossValidation:
    """Best (value, epoch) by the fold-mean metric of ``cv.metric``; ties: the value listed first in the
    configuration's ``cv``, then the earliest epoch."""
    values = cv_values(cv)
    keys = [value_key(v) for v in values]
    metric = cv["metric"]
    ranked = table.assign(order=table["value"].map({v: i for i, v in enumerate(keys)}))
    ranked = ranked.sort_values(["order", "epoch"], kind="stable")
    scores = ranked[f"{metric}_mean"].to_numpy(float)
    if metric in LOWER_IS_BETTER:
        scores = -scores
    best = ranked.iloc[int(np.argmax(np.where(np.isnan(scores), -np.inf, scores)))]
    return CrossValidation(
        parameter=cv["parameter"],
        value=values[keys.index(str(best["value"]))],
        value_key=str(best["value"]),
        epoch=int(best["epoch"]),
        metric=metric,
        mean=float(best[f"{metric}_mean"]),
        sd=float(best[f"{metric}_sd"]) if not np.isnan(best[f"{metric}_sd"]) else None,
        folds=cv["folds"],
        values=values,
    )


def read_fold_metrics(paths: list[str]) -> dict[tuple[str, int], pd.DataFrame]:
    """Per-epoch metrics of every cross-validation job, keyed by (value key, fold), from their
    paths ``.../<value>/fold<k>/metrics.csv``."""
    tables = {}
    for path in map(Path, paths):
        tables[(path.parent.parent.name, int(path.parent.name.removeprefix("fold")))] = pd.read_csv(path)
    return tables
