"""What a rerun redoes after the code changes, in a finished run of a copy of the workflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workflow.helpers import copy_workflow, make_workdir, planned_jobs, snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, Path]:
    """(repo copy, working directory) after a complete run of the copy."""
    repo = copy_workflow(tmp_path_factory.mktemp("repo"))
    workdir = make_workdir(tmp_path_factory.mktemp("work"))
    result = snakemake(workdir, "--cores", "2", repo=repo)
    assert result.returncode == 0, result.stderr[-5000:]
    assert planned_jobs(workdir, repo=repo) == {}
    return repo, workdir


def _planned_after_editing(finished, module: str):
    repo, workdir = finished
    source = repo / "pickflow" / module
    original = source.read_text()
    source.write_text(original + "\n# an edit\n")
    try:
        return planned_jobs(workdir, repo=repo)
    finally:
        source.write_text(original)


def test_editing_the_unet_module_retrains_and_rescores(finished):
    jobs = _planned_after_editing(finished, "unet.py")
    assert jobs["train"] == 1 and jobs["score"] == 2
    assert not {"preprocess", "labels", "split"} & set(jobs)


def test_editing_the_plotting_module_reruns_only_plots(finished):
    jobs = _planned_after_editing(finished, "plots.py")
    assert set(jobs) == {"plots", "plot_preprocessing", "all"}
