"""Cross-validation figures: metric vs value (folds as points, mean +- sd), metric vs epoch per value,
and every fold's training curves."""

from __future__ import annotations

import pandas as pd

from ..io.records import CrossValidation
from ..report import plots
from ..training.crossval import read_fold_metrics


def plot_cross_validation(table: str, best: str, metrics: list[str], outputs: dict) -> None:
    choice = CrossValidation.read(best)
    aggregate = pd.read_csv(table, dtype={"value": str})
    runs = read_fold_metrics(metrics)
    per_fold = pd.concat(
        [m[m["split"] == "test"].assign(value=v, fold=f) for (v, f), m in runs.items()], ignore_index=True
    )
    plots.cv_metric_vs_value(aggregate, per_fold, choice, outputs["metric_vs_value"])
    plots.cv_metric_vs_epoch(aggregate, choice.metric, outputs["metric_vs_epoch"])
    plots.cv_fold_curves(runs, choice.epoch, outputs["fold_curves"])
