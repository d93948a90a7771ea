"""Aggregate the cross-validation folds: mean and standard deviation over folds of the held-out-fold
metric for every (value, epoch), and the chosen value and epoch. By hand:
    python scripts/cv_aggregate.py OUT_table.csv OUT_best.json --metrics results/cv/*/fold*/metrics.csv [--config config.yaml]
"""

from pickflow.atomic import atomic_path, write_json
from pickflow.cli import config_parser, entry
from pickflow.config import load_config
from pickflow.crossval import aggregate, choose, cv_values, read_fold_metrics, value_key


def run(metrics: list[str], table_out: str, best_out: str, cv: dict) -> None:
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


def parser():
    p = config_parser(__doc__)
    p.add_argument("table_out")
    p.add_argument("best_out")
    p.add_argument("--metrics", nargs="+", required=True)
    return p


if __name__ == "__main__":
    entry(
        run,
        parser(),
        lambda a: {
            "metrics": a.metrics,
            "table_out": a.table_out,
            "best_out": a.best_out,
            "cv": load_config(a.config)["cv"],
        },
        globals().get("snakemake"),
        lambda s: {
            "metrics": list(s.input.metrics),
            "table_out": s.output.table,
            "best_out": s.output.best,
            "cv": s.params.cv,
        },
    )
