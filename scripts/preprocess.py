"""Snakemake rule ``preprocess``: one micrograph to a preprocessed MRC and JSON (pickflow.steps.preprocess).
By hand: ``pickflow preprocess``."""

from pickflow.steps import entry
from pickflow.steps.preprocess import preprocess_micrograph

entry(
    preprocess_micrograph,
    snakemake,  # noqa: F821
    lambda s: {
        "micrograph": s.input.micrograph,
        "out_mrc": s.output.mrc,
        "out_json": s.output.json,
        "params": s.params.preprocess,
        "identity": s.params.identity,
    },
)
