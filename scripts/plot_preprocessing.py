"""Snakemake adapter of the rule plot_preprocessing: preprocessing figures (pickflow.steps.plot_preprocessing)."""

from pickflow.preprocess.preprocessed import mrc_path
from pickflow.steps import entry
from pickflow.steps.plot_preprocessing import plot_preprocessing

entry(
    plot_preprocessing,
    snakemake,  # noqa: F821
    lambda s: {
        "raw": list(s.input.raw),
        "preprocessed": [str(mrc_path(p)) for p in s.input.preprocessed],
        "normalization": list(s.input.normalization),
        "outputs": dict(s.output.items()),
    },
)
