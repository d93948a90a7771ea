"""The default start through Snakemake: a run that sets no train.init starts resnet8 from the shipped general
model and preprocesses at the general model's scale."""

from __future__ import annotations

import json

import pytest
import starfile

from pickflow.models.general import general_model_info, general_model_path
from tests.workflow.helpers import make_workdir, snakemake

pytestmark = pytest.mark.workflow


def test_a_run_without_train_init_starts_from_the_general_model(tmp_path):
    workdir = make_workdir(tmp_path, n_micrographs=4, train={"init": None, "epochs": 1, "epoch_size": 4})
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]
    assert "preprocess.downsample 4 is ignored" in result.stderr
    info = general_model_info("resnet8")
    summary = json.loads((workdir / "results/train/summary.json").read_text())
    assert summary["init"] == {"init": "general", "path": str(general_model_path("resnet8")), "sha256": info["sha256"]}
    assert summary["config"]["init"] == "general" and summary["config"]["init_sha256"] == info["sha256"]
    meta = json.loads(next((workdir / "results/preprocessed").glob("*.json")).read_text())
    assert meta["pixel_size"] == pytest.approx(300 / info["particle_pixels"], rel=0.01)  # 12.5 Å/px, not 4 x 5.36
    assert meta["normalization"]["method"] == info["normalize"]
    assert len(starfile.read(workdir / "results/picks/particles.star")) > 0
