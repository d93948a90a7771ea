"""Picking while data arrives: adding micrographs to a finished project preprocesses and scores only a few, and
no job lists every micrograph (benchmarks.incremental, dry runs of a simulated finished project)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pickflow.picking.batches import score_batches
from tests.workflow.helpers import REPO

pytestmark = pytest.mark.workflow
N, ADDED, BATCH_SIZE = 150, 3, 5


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("incremental")
    argv = [sys.executable, "-m", "benchmarks.incremental", "--micrographs", str(N), "--add", str(ADDED)]
    argv += ["--pick", json.dumps({"batch_size": BATCH_SIZE}), "--label", "test", "--out", str(out)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=1200, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((out / "incremental-test.json").read_text())


def test_adding_micrographs_preprocesses_them_and_rescores_only_their_batches(measured):
    assert measured["preprocess_jobs"] == ADDED
    assert 1 <= measured["score_jobs"] <= 2 * ADDED  # each new micrograph changes its batch or splits it in two
    assert ADDED <= measured["micrographs_scored"] <= ADDED * (BATCH_SIZE + 1) < 0.2 * N


def test_a_fresh_run_submits_one_scoring_job_per_batch(measured):
    names = [f"mic_{i:06d}" for i in range(N)]
    assert measured["fresh_run"]["submissions_per_rule"]["score"] == len(score_batches(names, BATCH_SIZE))


def test_no_job_lists_every_micrograph(measured):
    """The normalization figure reads one statistics file per scoring batch, not one JSON per micrograph."""
    most = measured["most_inputs_per_rule"]
    batches = len(score_batches([f"mic_{i:06d}" for i in range(N + ADDED)], BATCH_SIZE))
    assert most["plot_preprocessing"] <= batches + 10  # + the thumbnails and the code
    assert all(count < N for rule, count in most.items() if rule != "all")
