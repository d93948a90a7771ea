"""Snakemake adapter of the rule folds: split -> cross-validation folds (pickflow.steps.folds)."""

from pickflow.steps import entry
from pickflow.steps.folds import write_folds

entry(
    write_folds,
    snakemake,  # noqa: F821
    lambda s: {"labels": s.input.labels, "split": s.input.split, "output": s.output[0], **s.params.folds},
)
