"""Snakemake adapter of the rule split: labeled micrographs -> training and test sets (pickflow.steps.split)."""

from pickflow.steps import entry
from pickflow.steps.split import split_labels

entry(split_labels, snakemake, lambda s: {"labels": s.input.labels, "output": s.output[0], **s.params.split})  # noqa: F821
