"""The per-micrograph overview: flagged pick counts in summary.json and on the report's front page, and the figure."""

from __future__ import annotations

import json

import pytest

from tests.workflow.helpers import DEMO_MICROGRAPHS, snakemake

pytestmark = pytest.mark.workflow


def test_summary_lists_unusual_pick_counts_and_the_micrographs_shown(run_dir):
    summary = json.loads((run_dir / "results/picks/summary.json").read_text())
    counts, unusual = summary["picks_per_micrograph"], summary["unusual_pick_counts"]
    assert unusual["low"] < unusual["median"] < unusual["high"]
    assert unusual["few"] == sorted(n for n in counts if counts[n] < unusual["low"])
    assert unusual["many"] == sorted(n for n in counts if counts[n] > unusual["high"])
    assert sorted(summary["overview_micrographs"]) == sorted(m.stem for m in DEMO_MICROGRAPHS[:6])  # all 6 fit
    front = (run_dir / "results/report/summary.rst").read_text()
    assert "Micrographs with unusual pick counts" in front


def test_overview_figure_reads_only_the_micrographs_it_shows(run_dir):
    assert (run_dir / "results/plots/overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shown = json.loads((run_dir / "results/picks/summary.json").read_text())["overview_micrographs"]
    plan = snakemake(run_dir, "--dry-run", "--forcerun", "plot_overview")
    assert plan.returncode == 0, plan.stderr
    block = plan.stdout.split("rule plot_overview:")[1]
    inputs = block.split("input: ")[1].splitlines()[0].split(", ")
    preprocessed = sorted(p for p in inputs if p.startswith("results/preprocessed/"))
    assert preprocessed == sorted(f"results/preprocessed/{n}.json" for n in shown)
