"""What a rerun redoes after the code or an input changes (in content, not file times), in a finished run of
a copy of the workflow. Each test restores what it changed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.workflow.helpers import (
    DEMO_MICROGRAPHS,
    TINY_CONFIG,
    copy_workflow,
    make_workdir,
    merge,
    planned_jobs,
    snakemake,
    write_config,
)

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
    jobs = _planned_after_editing(finished, "models/unet.py")
    assert jobs["train"] == 1 and jobs["score"] == 2
    assert not {"preprocess", "labels", "split"} & set(jobs)


def test_editing_the_plotting_module_reruns_only_plots(finished):
    jobs = _planned_after_editing(finished, "report/plots.py")
    assert set(jobs) == {"plots", "plot_preprocessing", "plot_overview", "all"}


def test_editing_settings_no_result_depends_on_reruns_nothing(finished):
    """The threads of each job, and cross-validation's settings while it is off, change no result: no job reruns,
    the report included (each rule's params hold only the settings its step uses, built by pickflow.workflow.config)."""
    repo, workdir = finished
    edit = {"pick": {"threads": 2}, "train": {"threads": 2}, "preprocess": {"threads": 2}, "cv": {"folds": 4}}
    changed = write_config(workdir, merge(TINY_CONFIG, edit), "threads.yaml")
    assert planned_jobs(workdir, "--configfile", str(changed), repo=repo) == {}


def test_a_purged_preprocessed_micrograph_reruns_nothing_and_is_regenerated_identical(finished):
    """The .mrc files are a cache the .json records describe (pickflow.preprocess.preprocessed): a scratch purge plans no job,
    and a job that needs a purged file regenerates it. Snakemake's masking bug with ancient inputs
    (snakemake/snakemake#4166) once left one scoring batch stale here: every batch must be planned."""
    repo, workdir = finished
    purged = workdir / "results/preprocessed/061_10028.mrc"  # a labeled micrograph, scored in one of two batches
    before = purged.read_bytes()
    purged.unlink()
    assert planned_jobs(workdir, repo=repo) == {}
    changed = write_config(workdir, merge(TINY_CONFIG, {"pick": {"nms_radius": 120}}), "changed.yaml")
    jobs = planned_jobs(workdir, "--configfile", str(changed), repo=repo)
    assert jobs["score"] == 2 and jobs["threshold"] == 1 and jobs["picks"] == 1, jobs
    assert not {"preprocess", "labels", "split", "train"} & set(jobs), jobs
    # The rescoring regenerates the file from the same micrograph, settings and code: the same header fields and
    # pixels (only the creation time in its text labels, bytes 224-1023, differs).
    rerun = snakemake(workdir, "--cores", "2", "--configfile", str(changed), repo=repo)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    after = purged.read_bytes()
    assert after[:224] == before[:224] and after[1024:] == before[1024:]
    assert planned_jobs(workdir, "--configfile", str(changed), repo=repo) == {}
    (workdir / "changed.yaml").unlink()


def test_a_micrograph_replaced_with_an_older_timestamp_is_preprocessed_again(finished):
    repo, workdir = finished
    micrograph = workdir / "data/micrographs/062_10028.png"
    baseline = planned_jobs(workdir, repo=repo)  # what earlier tests left to do (not preprocessing or training)
    assert not {"preprocess", "train"} & set(baseline)
    original, stat = micrograph.read_bytes(), micrograph.stat()
    micrograph.write_bytes(DEMO_MICROGRAPHS[8].read_bytes())  # another exposure, not in this run
    older = stat.st_mtime - 3600
    os.utime(micrograph, (older, older))
    try:
        jobs = planned_jobs(workdir, repo=repo)
    finally:
        micrograph.write_bytes(original)
        os.utime(micrograph, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert jobs["preprocess"] == 1 and jobs["labels"] == 1 and jobs["train"] == 1, jobs
    # The original content back: nothing more to do, although the file was rewritten.
    assert planned_jobs(workdir, repo=repo) == baseline


def test_touching_a_micrograph_without_changing_it_reruns_nothing(finished):
    repo, workdir = finished
    micrograph = workdir / "data/micrographs/063_10028.png"
    baseline = planned_jobs(workdir, repo=repo)
    now = time.time() + 60
    os.utime(micrograph, (now, now))
    assert planned_jobs(workdir, repo=repo) == baseline
    assert "preprocess" not in baseline
