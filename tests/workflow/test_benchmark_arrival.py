"""Micrographs that appear while `pickflow watch` runs are picked, with the general model and no training
(benchmarks/arrival.py at its smoke settings: 3 micrographs copied in one after the other at a steady rate)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.workflow.helpers import REPO

pytestmark = pytest.mark.workflow


def test_micrographs_arriving_at_a_steady_rate_are_all_picked(tmp_path):
    out, project = tmp_path / "out", tmp_path / "project"
    argv = [sys.executable, "-m", "benchmarks.arrival", "--smoke", "--label", "smoke", "--out", str(out)]
    result = subprocess.run([*argv, "--keep", str(project)], capture_output=True, text=True, timeout=1500, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    measured = json.loads((out / "arrival-smoke.json").read_text())
    rows = measured["per_micrograph"]
    assert [row["micrograph"] for row in rows] == ["arrival_0001.png", "arrival_0002.png", "arrival_0003.png"]
    for row in rows:  # picks written after the copy was complete, per-micrograph files and picks for each
        assert row["star_written"] and row["picks"] > 0
        assert row["picks_written_unix"] > row["arrived_unix"]
    assert measured["all_picked"] and sum(measured["micrographs_per_run"]) == 3
    assert measured["delay_s"]["median"] <= measured["delay_s"]["max"]
    assert not (project / "results" / "train").exists()  # picked with the general model, nothing trained
