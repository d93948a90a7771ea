"""The real demo-style workflow run shared by the workflow tests (one run per test session)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.workflow.helpers import REPO, make_workdir, snakemake

CONSOLE = "console.txt"  # what the run printed (stderr), kept in its working directory


@pytest.fixture(scope="session", autouse=True)
def no_slurm_cluster(tmp_path_factory):
    """These workflows run locally, so tell the SLURM client that there is no cluster (an empty SLURM_CONF).
    Snakemake's SLURM executor plugin runs ``scontrol show config`` at every start; once tests/slurm has stopped its
    local cluster, its slurm.conf stays in /etc/slurm and scontrol waits about 9 s for the stopped controller, at
    every Snakemake start of every test. With an empty configuration it answers at once."""
    if not shutil.which("scontrol") or "SLURM_CONF" in os.environ:
        yield
        return
    empty = tmp_path_factory.mktemp("slurm") / "slurm.conf"
    empty.write_text("")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLURM_CONF", str(empty))
        yield


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    """The tiny workflow run as a user runs it: with the local profile."""
    workdir = make_workdir(tmp_path_factory.mktemp("demo"))
    result = snakemake(workdir, "--profile", str(REPO / "profiles" / "local"), "--cores", "2")
    (workdir / CONSOLE).write_text(result.stderr)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir
