"""Snakemake adapter of the rule labels: coordinate files -> one labels table in both pixel frames (pickflow.steps.labels)."""

from pickflow.steps import entry
from pickflow.steps.labels import convert_labels

entry(
    convert_labels,
    snakemake,  # noqa: F821
    lambda s: {
        "coordinates": list(s.input.coordinates),
        "meta": list(s.input.meta),
        "output": s.output[0],
        "settings": dict(s.params.labels),
    },
)
