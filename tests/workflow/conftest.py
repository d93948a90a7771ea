"""The real demo-style workflow run shared by the workflow tests (one run per test session)."""

from __future__ import annotations

import pytest

from tests.workflow.helpers import make_workdir, snakemake


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("demo"))
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir
