"""Snakemake rule ``preprocess``: one micrograph to its preprocessed JSON record and MRC (pickflow.preprocess.preprocessed).
By hand: ``pickflow preprocess``."""

from pickflow.preprocess.preprocessed import write_preprocessed
from pickflow.steps import entry

entry(
    write_preprocessed,
    snakemake,  # noqa: F821
    lambda s: {
        "micrograph": s.input.micrograph,
        "out_json": s.output.json,
        "params": s.params.preprocess,
        "identity": s.params.identity,
    },
)
