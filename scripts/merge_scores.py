"""Snakemake rule ``merge_scores``: one group of scoring batches to one candidates file and one normalization
file (pickflow.steps.merge_scores)."""

from pickflow.steps import entry
from pickflow.steps.merge_scores import merge_scores

entry(
    merge_scores,
    snakemake,  # noqa: F821
    lambda s: {
        "candidates": list(s.input.candidates),
        "normalization": list(s.input.normalization),
        "outputs": {"candidates": s.output.candidates, "normalization": s.output.normalization},
    },
)
