"""Snakemake checkpoint ``picks``: the candidates above the chosen threshold, in every format, and a summary
(pickflow.steps.picks). By hand: ``pickflow picks``."""

from pickflow.steps import entry
from pickflow.steps.picks import read_choice, write_picks

entry(
    write_picks,
    snakemake,  # noqa: F821
    lambda s: {
        "candidates": list(s.input.candidates),
        "choice": read_choice(s.input.threshold),
        "outputs": dict(s.output.items()),
        "box": s.params.box_size,
        "micrographs": dict(s.params.micrographs),
    },
)
