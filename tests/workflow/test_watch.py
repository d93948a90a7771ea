"""On-the-fly picking: `pickflow watch` picks micrographs copied into a trained project, without training again."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from tests.workflow.helpers import DEMO_MICROGRAPHS, REPO

pytestmark = pytest.mark.workflow
NEW = DEMO_MICROGRAPHS[6:8]


@pytest.fixture
def project(run_dir, tmp_path):
    """A copy of the trained demo project (outputs, Snakemake's records and all)."""
    copy = tmp_path / "project"
    shutil.copytree(run_dir, copy, symlinks=True)
    return copy


def start_watch(project, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    argv = [sys.executable, "-m", "pickflow", "watch", "--interval", "1", "--settle", "1", "--cores", "2", *args]
    return subprocess.Popen(argv, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_line(path, text: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.monotonic() < deadline, f"no '{text}' in {path}"
        time.sleep(0.5)


def test_micrographs_copied_in_over_time_are_picked_with_the_trained_model(project):
    model = project / "results/train/model.pt"
    trained = model.stat().st_mtime_ns
    proc = start_watch(project, "--stop-when-idle", "30")
    log = project / "results/watch/watch.log"
    wait_for_line(log, "watching", proc)
    for mic in NEW:  # one after the other, each a while after the previous one was picked
        shutil.copy(mic, project / "data/micrographs" / mic.name)
        wait_for_line(log, f"{mic.name}: picks written", proc)
    output = proc.communicate(timeout=600)[0]
    assert proc.returncode == 0, output[-3000:]
    with (project / "results/watch/delays.csv").open() as handle:
        delays = {row["micrograph"]: float(row["delay_s"]) for row in csv.DictReader(handle)}
    assert set(delays) == {mic.name for mic in NEW} and all(d > 0 for d in delays.values())
    summary = json.loads((project / "results/picks/summary.json").read_text())
    for mic in NEW:
        assert summary["picks_per_micrograph"][mic.stem] > 0
        assert (project / "results/picks/micrographs" / f"{mic.stem}.star").exists()
    assert model.stat().st_mtime_ns == trained  # never trained again


def test_the_watcher_stops_when_the_next_run_would_train(project):
    config = yaml.safe_load((project / "config.yaml").read_text())
    config["train"]["learning_rate"] = 0.003
    (project / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    proc = start_watch(project)
    output = proc.communicate(timeout=600)[0]
    assert proc.returncode == 1
    assert "the next run would train (train)" in output and "Run `snakemake` by hand once" in output
