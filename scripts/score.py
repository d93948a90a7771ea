"""Snakemake rule ``score``: one batch of preprocessed micrographs to candidates (pickflow.steps.score).
By hand: ``pickflow score``."""

from pickflow.preprocess.preprocessed import mrc_path
from pickflow.steps import entry
from pickflow.steps.score import score_micrographs

entry(
    score_micrographs,
    snakemake,  # noqa: F821
    lambda s: {
        "model_path": s.input.model,
        "micrographs": [str(mrc_path(p)) for p in s.input.micrographs],
        "output": s.output.candidates,
        "normalization": s.output.normalization,
        "params": s.params.pick,
        "device": s.params.device,
        "threads": s.threads,
    },
)
