"""Snakemake adapter of the rule plot_cv: cross-validation figures (pickflow.steps.plot_cv)."""

from pickflow.steps import entry
from pickflow.steps.plot_cv import plot_cross_validation

entry(
    plot_cross_validation,
    snakemake,  # noqa: F821
    lambda s: {
        "table": s.input.table,
        "best": s.input.best,
        "metrics": list(s.input.metrics),
        "outputs": dict(s.output.items()),
    },
)
