"""Snakemake adapter of the rules train and cv_train: train a picker (pickflow.steps.train)."""

from pickflow.steps import entry, optional_input
from pickflow.steps.train import train_picker


def _from_job(s) -> dict:
    outputs = {k: s.output[k] for k in ("model", "last", "metrics", "summary") if k in s.output.keys()}
    return {
        "micrographs": list(s.params.micrographs),
        "labels": s.input.labels,
        "split": s.input.split,
        "outputs": outputs,
        "params": s.params.train,
        "device": s.params.device,
        "threads": s.threads,
        "fold": int(s.wildcards.fold) if "fold" in s.wildcards.keys() else None,
        "cv_best": optional_input(s.input.get("cv_best", [])),
    }


entry(train_picker, snakemake, _from_job)  # noqa: F821
