"""The ``pickflow`` command, run as a user runs it (``python -m pickflow``, this checkout's package), on two demo
micrographs: preprocess, score with a saved model, write picks in two formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from pickflow.io.micrographs import read_micrograph
from pickflow.models import ModelConfig
from pickflow.models.modelfile import save_model
from pickflow.models.topaz import Picker

REPO = Path(__file__).resolve().parents[2]
DEMO = sorted((REPO / "data/empiar10028/micrographs").glob("*.png"))[:2]
BOX = 80


def pickflow(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "pickflow", *map(str, args)]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A config for the two micrographs (listed in a file) and a small saved model with seeded weights."""
    (tmp_path / "micrographs.txt").write_text("".join(f"{path}\n" for path in DEMO))
    config = {
        "micrographs": {"path": "micrographs.txt", "pixel_size": 5.36},
        "particle_diameter": 300,
        "train": {"expected_particles": 100},
        "preprocess": {"downsample": 2, "normalize": "affine"},
        "pick": {
            "model": "model.pt",  # picks with the saved model below, at this config's scale
            "box_size": BOX,
            "device": "cpu",
            "threads": 1,
            "threshold": {"mode": "expected"},
        },
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    torch.manual_seed(0)
    save_model(tmp_path / "model.pt", Picker(ModelConfig(name="conv31", units=8)), {})
    return tmp_path


def test_help_lists_the_subcommands(tmp_path):
    result = pickflow("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("preprocess", "score", "picks", "simulate", "watch"):
        assert f"\n    {name}" in result.stdout


def test_preprocess_score_and_picks_in_two_formats(project):
    result = pickflow("preprocess", *DEMO, "--outdir", "pre", cwd=project)
    assert result.returncode == 0, result.stderr
    preprocessed = [project / "pre" / f"{path.stem}.mrc" for path in DEMO]
    for raw, pre in zip(DEMO, preprocessed, strict=True):
        meta = json.loads(pre.with_suffix(".json").read_text())
        assert read_micrograph(pre).shape == tuple(s // 2 for s in read_micrograph(raw).shape)
        assert meta["micrograph"] == raw.stem and meta["scale"] == pytest.approx([2, 2], rel=0.01)

    result = pickflow("score", "model.pt", *preprocessed, "--output", "candidates.csv", cwd=project)
    assert result.returncode == 0, result.stderr
    candidates = pd.read_csv(project / "candidates.csv")
    assert list(candidates.columns) == ["micrograph", "x", "y", "x_pre", "y_pre", "score"]
    assert set(candidates["micrograph"]) == {path.stem for path in DEMO}
    scale = {path.stem: json.loads(path.with_suffix(".json").read_text())["scale"] for path in preprocessed}
    expected_x = candidates["x_pre"] * candidates["micrograph"].map(lambda m: scale[m][1])
    np.testing.assert_allclose(candidates["x"], expected_x, atol=0.01)  # full-size pixels

    threshold = float(candidates["score"].median())
    args = (
        "picks",
        "candidates.csv",
        "--threshold",
        threshold,
        "--format",
        "csv",
        "--format",
        "box",
        "--outdir",
        "out",
    )
    result = pickflow(*args, cwd=project)
    assert result.returncode == 0, result.stderr
    kept = candidates[candidates["score"] >= threshold]
    picks = pd.read_csv(project / "out/particles.csv")
    assert list(picks.columns) == ["micrograph", "x", "y", "score"] and len(picks) == len(kept) > 0
    np.testing.assert_allclose(np.sort(picks["x"]), np.sort(kept["x"]), atol=0.001)
    for path in DEMO:
        mine = kept[kept["micrograph"] == path.stem].sort_values("score", ascending=False)
        box = np.loadtxt(project / "out/micrographs" / f"{path.stem}.box", ndmin=2)
        assert box.shape == (len(mine), 4) and (box[:, 2:] == BOX).all()
        np.testing.assert_allclose(box[:, 0], np.rint(mine["x"] - BOX / 2))
    assert not (project / "out/particles.star").exists() and not (project / "out/particles.cs").exists()
    summary = json.loads((project / "out/summary.json").read_text())
    assert summary["n_picks"] == len(kept) and summary["threshold_mode"] == "value"
    assert summary["picks_per_micrograph"] == kept["micrograph"].value_counts().to_dict()


def test_a_missing_model_is_one_clear_error(project):
    result = pickflow("score", "missing.pt", "pre/a.mrc", "--output", "c.csv", cwd=project)
    assert result.returncode == 1
    assert "missing.pt" in result.stderr and "Traceback" not in result.stderr


def test_picks_of_micrographs_outside_the_config_are_one_clear_error(project):
    (project / "candidates.csv").write_text("micrograph,x,y,x_pre,y_pre,score\nelsewhere,10,10,5,5,1.0\n")
    result = pickflow("picks", "candidates.csv", "--threshold", 0, "--outdir", "out", cwd=project)
    assert result.returncode == 1 and "(elsewhere)" in result.stderr and "Traceback" not in result.stderr
    assert not (project / "out/summary.json").exists()
