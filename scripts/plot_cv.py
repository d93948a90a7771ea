"""Cross-validation figures: metric vs value (folds as points, mean +- sd), metric vs epoch per value,
and every fold's training curves. By hand:
    python scripts/plot_cv.py OUTDIR --table results/cv/aggregate.csv --best results/cv/best.json \
        --metrics results/cv/*/fold*/metrics.csv
"""

import json
from pathlib import Path

import pandas as pd

from pickflow import plots
from pickflow.cli import config_parser, entry
from pickflow.crossval import read_fold_metrics


def run(table: str, best: str, metrics: list[str], outputs: dict) -> None:
    choice = json.loads(Path(best).read_text())
    aggregate = pd.read_csv(table, dtype={"value": str})
    runs = read_fold_metrics(metrics)
    per_fold = pd.concat(
        [m[m["split"] == "test"].assign(value=v, fold=f) for (v, f), m in runs.items()], ignore_index=True
    )
    plots.cv_metric_vs_value(aggregate, per_fold, choice, outputs["metric_vs_value"])
    plots.cv_metric_vs_epoch(aggregate, choice["metric"], outputs["metric_vs_epoch"])
    plots.cv_fold_curves(runs, choice["epoch"], outputs["fold_curves"])


def parser():
    p = config_parser(__doc__)
    p.add_argument("outdir")
    p.add_argument("--table", required=True)
    p.add_argument("--best", required=True)
    p.add_argument("--metrics", nargs="+", required=True)
    return p


if __name__ == "__main__":
    entry(
        run,
        parser(),
        lambda a: {
            "table": a.table,
            "best": a.best,
            "metrics": a.metrics,
            "outputs": {
                k: Path(a.outdir) / f"cv_{k}.png" for k in ("metric_vs_value", "metric_vs_epoch", "fold_curves")
            },
        },
        globals().get("snakemake"),
        lambda s: {
            "table": s.input.table,
            "best": s.input.best,
            "metrics": list(s.input.metrics),
            "outputs": dict(s.output.items()),
        },
    )
