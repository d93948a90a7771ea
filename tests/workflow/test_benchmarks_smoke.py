"""The benchmarks themselves run (tiny settings, pickflow side only): their JSON and tables are complete."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pickflow.picking.batches import score_batches
from tests.workflow.helpers import REPO

pytestmark = pytest.mark.workflow


def test_side_by_side_smoke(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.side_by_side",
            "--smoke",
            "--skip-topaz",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = json.loads((out / "side_by_side_smoke.json").read_text())
    assert results["preprocess"]["pickflow_s_per_micrograph_marginal"] > 0
    pickflow = results["train"]["median"]["pickflow"]
    assert {"s_per_update", "s_per_epoch_evaluation", "peak_mb", "average_precision"} <= set(pickflow)
    assert 0 <= pickflow["average_precision"] <= 1
    assert results["extract"]["pickflow_stride2"]["s_all"] > 0
    assert results["train"]["median"]["pickflow_fp32"]["s_per_update"] > 0  # the fp32 reference beside auto
    table = (out / "side_by_side_smoke.md").read_text()
    assert "| held-out particle AP (precision auto) |" in table and "| held-out particle AP (fp32, eager) |" in table


def test_scale_smoke(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    dag = {row["n"]: row for row in json.loads((tmp_path / "scale.json").read_text())["dag"]}
    assert sorted(dag) == [50, 200]
    for n, row in dag.items():
        assert row["jobs_per_rule"]["preprocess"] == n
        assert row["submissions"] == row["submissions_expected"]  # preprocessing bundled 200 per submission
    for n, row in dag.items():  # one scoring submission per batch of at most pick.batch_size micrographs
        names = [f"mic_{i:06d}" for i in range(n)]
        assert row["submissions_per_rule"]["score"] == len(score_batches(names, 20))
    other = {n: row["submissions"] - row["submissions_per_rule"]["score"] for n, row in dag.items()}
    assert other[200] == other[50]  # everything else does not grow with the project
    assert (tmp_path / "scale.md").read_text().startswith("#")


def test_accuracy_smoke(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "benchmarks.accuracy", "--datasets", "easy", "--skip-topaz"]
    command += ["--micrographs", "5", "--image-size", "512", "--epochs", "1", "--epoch-size", "2", "--minibatch", "8"]
    command += ["--seeds", "0", "1", "--work", str(tmp_path / "work"), "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((out / "accuracy.json").read_text())["datasets"]["easy"]["summary"]
    assert set(summary) == {"pickflow resnet8", "pickflow unet"}
    for row in summary.values():
        assert row["seeds"] == 2 and len(row["average_precision_per_seed"]) == 2
        assert 0 <= row["average_precision"] <= 1 and row["train_wall_s"] > 0
    assert summary["pickflow unet"]["budget"] == "1 x 2 x 1 patch of 128 px"
    assert "| easy | pickflow unet |" in (out / "accuracy.md").read_text()


def test_heldout_smoke(tmp_path):
    simulate = [sys.executable, "-m", "pickflow", "simulate", str(tmp_path / "sim"), "--preset", "hard"]
    simulate += ["--micrographs", "3", "--size", "512", "--particles", "20"]
    subprocess.run(simulate, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=600)
    out = tmp_path / "heldout.json"
    command = [sys.executable, "-m", "benchmarks.heldout", str(tmp_path / "sim"), "--models", "resnet8"]
    command += ["--epochs", "2", "--epoch-size", "2", "--test", "1", "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (run,) = json.loads(out.read_text())
    assert [row["epoch"] for row in run["per_epoch"]] == [1, 2]
    for row in run["per_epoch"]:
        assert all(0 <= row[k] <= 1 for k in ("ap", "recall_at_expected", "true_ap", "true_recall_at_expected"))
    assert run["selection"]["ap"]["regret"] >= 0 and run["selection"]["recall_at_expected"]["regret"] >= 0
    for method in ("nms", "blob"):
        assert 0 <= run["extraction_at_best_ap_epoch"][method]["candidate_recall"] <= 1
    assert "| sim | resnet8 |" in out.with_suffix(".md").read_text()
