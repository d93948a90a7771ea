"""The Snakemake report of a real run, opened in headless Chromium as a user would open it."""

from __future__ import annotations

import json
import zipfile

import pytest

from tests.workflow.browser import Browser, chromium_binary
from tests.workflow.helpers import snakemake

pytestmark = pytest.mark.workflow


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


WINDOW = (1400, 900)


def test_report_opens_at_its_summary_in_chromium(report, tmp_path):
    """At a 1400x900 window the title and the summary table are on screen without scrolling, the page's script
    reports no error, and the page holds the whole front page (the screenshot is kept for a look)."""
    chromium = chromium_binary()
    if chromium is None:
        pytest.skip("Chromium is not installed (make test installs Debian's chromium where apt-get runs as root)")
    browser = Browser(chromium, tmp_path / "profile", *WINDOW)
    try:
        browser.open(report.as_uri(), "document.querySelector('h1.title') && document.querySelector('#rulegraph svg')")
        boxes = browser.evaluate(
            "JSON.stringify(Object.fromEntries(Object.entries({title: document.querySelector('h1.title'), "
            "summary: document.getElementById('summary').querySelector('table')})"
            ".map(([k, el]) => [k, el.getBoundingClientRect().toJSON()])))"
        )
        text = browser.evaluate("document.body.innerText")
        browser.screenshot(tmp_path / "report.png")
    finally:
        browser.close()
    assert browser.errors == []
    boxes = json.loads(boxes)
    width, height = WINDOW
    for name in ("title", "summary"):
        assert 0 <= boxes[name]["top"] < height and boxes[name]["left"] < width, (name, boxes[name])
    assert boxes["title"]["bottom"] <= height
    for line in ("pickflow picking run", "Particles picked", "Held-out particle AP", "Diagnostics", "Provenance"):
        assert line in text, line
    shot = (tmp_path / "report.png").read_bytes()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
