"""Snakemake adapter of the rule cv_aggregate: fold metrics -> table and chosen value/epoch (pickflow.steps.cv_aggregate)."""

from pickflow.steps import entry
from pickflow.steps.cv_aggregate import aggregate_folds

entry(
    aggregate_folds,
    snakemake,  # noqa: F821
    lambda s: {
        "metrics": list(s.input.metrics),
        "table_out": s.output.table,
        "best_out": s.output.best,
        "cv": s.params.cv,
    },
)
