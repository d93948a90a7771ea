"""benchmarks.realistic runs end to end with tiny settings (pickflow side only): per-run JSON, resumable
runs, summary.json and the README table generated from them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pickflow.models.general import has_general_model
from tests.workflow.helpers import REPO

pytestmark = pytest.mark.workflow
TINY = ["--epochs", "1", "--epoch-size", "2", "--minibatch", "8"]


def realistic(*args: str) -> str:
    command = [sys.executable, "-m", "benchmarks.realistic", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_realistic_smoke(tmp_path):
    work, out = str(tmp_path / "work"), tmp_path / "out"
    realistic("data", "smoke", "--processes", "2", "--work", work)
    methods = ["pickflow_scratch", "pickflow_default", "pickflow_nolabel", "pickflow_nolabel_sym8"]
    run = ["run", "smoke", "--methods", *methods, "--families", "resnet8", "unet", "--seeds", "0", "1", *TINY]
    first = realistic(*run, "--work", work, "--out", str(out))

    runs = {p.name: json.loads(p.read_text()) for p in (out / "runs").glob("*.json")}
    expected = {f"smoke__pickflow_scratch__{f}__seed{s}.json" for f in ("resnet8", "unet") for s in (0, 1)}
    for family in ("resnet8", "unet"):
        if has_general_model(family):
            expected |= {f"smoke__pickflow_default__{family}__seed{s}.json" for s in (0, 1)}
            expected |= {f"smoke__{m}__{family}__seed-.json" for m in ("pickflow_nolabel", "pickflow_nolabel_sym8")}
        else:
            assert f"smoke__pickflow_nolabel__{family}__seed-.json: no general {family} model ships" in first
    assert set(runs) == expected
    for record in runs.values():
        assert {"commit", "date", "machine", "split", "budget", "pick_wall_s", "labels_used"} <= set(record)
        assert 0 <= record["average_precision"] <= 1 and 0 <= record["best_f1"] <= 1
        assert record["particles"] > 0 and record["split"]["test"] == [f"sim_{i:04d}" for i in range(16, 24)]
        assert len(record["split"]["train"]) == 12 and len(record["split"]["val"]) == 4
        assert record["average_symmetries"] is (record["method"] == "pickflow_nolabel_sym8")
        if record["method"].startswith("pickflow_nolabel"):
            assert record["seed"] is None and record["train_wall_s"] is None and record["budget"] is None
        else:
            assert record["train_wall_s"] > 0 and record["budget"]["epochs"] == 1
    scratch = runs["smoke__pickflow_scratch__resnet8__seed0.json"]
    assert scratch["budget"] == {"epochs": 1, "epoch_size": 2, "minibatch_size": 8, "learning_rate": 0.0002}
    assert runs["smoke__pickflow_scratch__unet__seed0.json"]["budget"]["minibatch_size"] is None  # 1 patch
    assert scratch["split"] != runs["smoke__pickflow_scratch__resnet8__seed1.json"]["split"]  # seed picks val

    again = realistic(*run, "--work", work, "--out", str(out))  # finished runs are skipped, not redone
    assert again.count("(exists)") == len(expected)

    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- table realistic: begin -->\nold\n<!-- table realistic: end -->\nrest\n")
    realistic("table", "--out", str(out), "--readme", str(readme))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == len(expected)
    row = next(r for r in summary["rows"] if r["method"] == "pickflow_scratch" and r["family"] == "resnet8")
    assert row["seeds"] == [0, 1] and len(row["average_precision_per_seed"]) == 2
    assert row["average_precision_spread"] == pytest.approx(
        max(row["average_precision_per_seed"]) - min(row["average_precision_per_seed"])
    )
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("rest\n") and "old" not in text
    assert "| smoke | pickflow, `train.init: scratch` | resnet8 | 1 × 2 × 8, 0.0002 |" in text
    assert "| smoke | pickflow, `train.init: scratch` | unet | 1 × 2 × 1 patch, 0.0002 |" in text
