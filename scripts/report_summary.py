"""Snakemake adapter of the rule report_summary: the report's front page and diagnostics (pickflow.steps.report_summary)."""

from pickflow.steps import entry, optional_input
from pickflow.steps.report_summary import write_report_summary

entry(
    write_report_summary,
    snakemake,  # noqa: F821
    lambda s: {
        "inputs": {k: optional_input(v) for k, v in s.input.items() if k != "code"},
        "outputs": dict(s.output.items()),
        "config": s.params.config,
        "particle_diameter_px": s.params.particle_diameter_px,
        "picking_model": s.params.picking_model,
    },
)
