"""Snakemake adapter of the rule plot_overview: the overview of many micrographs with their picks (pickflow.steps.plot_overview)."""

from pickflow.preprocess.preprocessed import mrc_path
from pickflow.steps import entry
from pickflow.steps.plot_overview import plot_overview

entry(
    plot_overview,
    snakemake,  # noqa: F821
    lambda s: {
        "summary": s.input.summary,
        "picks": s.input.picks,
        "preprocessed": [str(mrc_path(p)) for p in s.input.preprocessed],
        "output": s.output[0],
        "radius": s.params.radius,
    },
)
