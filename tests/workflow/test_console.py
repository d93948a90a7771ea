"""What a run prints on the console (Snakemake's stderr, with the jobs' log lines), under the local profile."""

from __future__ import annotations

import re

import pytest

from tests.workflow.conftest import CONSOLE
from tests.workflow.helpers import DEMO_MICROGRAPHS

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def console(run_dir) -> str:
    return (run_dir / CONSOLE).read_text()


def test_console_lists_jobs_without_empty_shell_commands(console):
    assert "rule train:" in console  # the jobs are listed
    assert "Shell command" not in console


def test_training_prints_every_epoch_with_metrics_and_time_left(console):
    epochs = re.findall(
        r"pickflow\.training\.loop: epoch (\d+)/3, \S+ elapsed, about \S+ left: objective=\S+ (.*)", console
    )
    assert [int(k) for k, _ in epochs] == [1, 2, 3]
    assert all("test: loss=" in metrics and " ap=" in metrics for _, metrics in epochs)


def test_scoring_prints_k_of_n_micrographs_with_time_left(console):
    lines = re.findall(
        r"pickflow\.score: micrograph (\d+)/(\d+), \S+ elapsed, about \S+ left: (\S+), \d+ candidates", console
    )
    assert sorted(name for _, _, name in lines) == sorted(p.stem for p in DEMO_MICROGRAPHS[:6])
    counts = [(int(k), int(n)) for k, n, _ in lines]
    assert all(1 <= k <= n for k, n in counts)
    assert sum(k == n for k, n in counts) == sum(k == 1 for k, _ in counts)  # every scoring job counted to its end
