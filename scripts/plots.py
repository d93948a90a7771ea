"""Snakemake adapter of the rule plots: the run's figures (pickflow.steps.plots)."""

from pickflow.steps import entry, optional_input
from pickflow.steps.plots import OPTIONAL_INPUTS, plot_run


def _from_job(s) -> dict:
    inputs = dict(s.input.items())
    inputs.update({k: optional_input(inputs[k]) for k in OPTIONAL_INPUTS})
    return {
        "inputs": inputs,
        "outputs": dict(s.output.items()),
        "preprocessed": s.params.preprocessed,
        "picking_model": s.params.picking_model,
        "particle_radius": s.params.particle_radius,
    }


entry(plot_run, snakemake, _from_job)  # noqa: F821
