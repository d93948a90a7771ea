"""The Snakemake report of a real run, opened in headless Chromium as a user would open it."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile

import pytest

from tests.workflow.helpers import snakemake

pytestmark = pytest.mark.workflow
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def report(run_dir):
    result = snakemake(run_dir, "--report", "report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir / "report.html"


def test_summary_and_diagnostics_files(run_dir):
    summary = (run_dir / "results/report/summary.rst").read_text()
    for heading in (
        "Summary",
        "Diagnostics",
        "Provenance",
        "Particles picked",
        "Held-out particle AP",
        "Threshold",
        "pickflow commit",
    ):
        assert heading in summary
    picks = json.loads((run_dir / "results/picks/summary.json").read_text())
    assert f"{picks['n_picks']} (" in summary
    diagnostics = json.loads((run_dir / "results/report/diagnostics.json").read_text())
    assert all({"id", "message", "evidence"} <= set(d) for d in diagnostics)
    for finding in diagnostics:
        assert finding["message"] in summary


def test_report_is_self_contained_with_every_figure(report, run_dir):
    html = report.read_text()
    assert len(html) > 100_000
    assert "System Message" not in html and "Unknown target name" not in html  # the front page rendered cleanly
    for figure in ("training.png", "precision_recall.png", "overlays.png", "preprocessing.png", "score_histogram.png"):
        assert figure in html
    zipped = snakemake(run_dir, "--report", "report.zip")
    assert zipped.returncode == 0, zipped.stderr[-2000:]
    assert any(name.endswith("report.html") for name in zipfile.ZipFile(run_dir / "report.zip").namelist())


def test_report_renders_in_chromium(report, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (make test installs Debian's chromium where apt-get runs as root)")
    flags = [
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,1000",
        "--virtual-time-budget=15000",
    ]
    dom = subprocess.run(
        [chromium, *flags, "--enable-logging=stderr", "--v=0", "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    console_errors = [
        line for line in dom.stderr.splitlines() if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)
    ]
    assert console_errors == []
    for text in ("pickflow picking run", "Particles picked", "Held-out particle AP", "Diagnostics", "Provenance"):
        assert text in dom.stdout, text
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=180, check=True
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
