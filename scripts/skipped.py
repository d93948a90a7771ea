"""Snakemake adapter of the rule skipped_micrographs: the micrographs left out by micrographs.on_error: skip (pickflow.steps.skipped)."""

from pickflow.steps import entry
from pickflow.steps.skipped import record_skipped

entry(record_skipped, snakemake, lambda s: {"output": s.output[0], "skipped": s.params.skipped})  # noqa: F821
