"""The real demo-style workflow run shared by the workflow tests (one run per test session)."""

from __future__ import annotations

import pytest

from tests.workflow.helpers import REPO, make_workdir, snakemake

CONSOLE = "console.txt"  # what the run printed (stderr), kept in its working directory


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    """The tiny workflow run as a user runs it: with the local profile."""
    workdir = make_workdir(tmp_path_factory.mktemp("demo"))
    result = snakemake(workdir, "--profile", str(REPO / "profiles" / "local"), "--cores", "2")
    (workdir / CONSOLE).write_text(result.stderr)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir
