"""What a run prints on the console (Snakemake's stderr, with the jobs' log lines), under the local profile."""

from __future__ import annotations

import pytest

from tests.workflow.conftest import CONSOLE

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def console(run_dir) -> str:
    return (run_dir / CONSOLE).read_text()


def test_console_lists_jobs_without_empty_shell_commands(console):
    assert "rule train:" in console  # the jobs are listed
    assert "Shell command" not in console
