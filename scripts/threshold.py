"""Snakemake adapter of the rule threshold: candidates -> picking threshold and held-out statistics (pickflow.steps.threshold)."""

from pickflow.steps import entry, optional_input
from pickflow.steps.threshold import choose_picking_threshold

entry(
    choose_picking_threshold,
    snakemake,  # noqa: F821
    lambda s: {
        "candidates": list(s.input.candidates),
        "labels": optional_input(s.input.labels),
        "split": optional_input(s.input.split),
        "micrographs": list(s.params.micrographs),
        "output": s.output.threshold,
        "curve_output": s.output.curve,
        "params": s.params.threshold,
    },
)
