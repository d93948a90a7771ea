"""Both model families in one workflow: cross-validation of model [resnet8, unet] through Snakemake."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import starfile

from tests.workflow.helpers import make_workdir, planned_jobs, snakemake

pytestmark = pytest.mark.workflow

FAMILIES = {
    "train": {"minibatch_size": None, "units": 8, "patch_size": 64, "epochs": 2, "epoch_size": 8},
    "cv": {"enabled": True, "parameter": "model", "values": ["resnet8", "unet"], "folds": 2, "seed": 1},
}


@pytest.fixture(scope="module")
def families_run(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("families"), **FAMILIES)
    assert planned_jobs(workdir)["cv_train"] == 4
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def test_each_family_trains_with_its_own_defaults(families_run):
    for value, loss, minibatch in (("resnet8", "GE-binomial", (256, "crops")), ("unet", "PN", (1, "64-px patches"))):
        for fold in (0, 1):
            summary = json.loads((families_run / f"results/cv/{value}/fold{fold}/summary.json").read_text())
            assert summary["config"]["model"]["name"] == value
            assert summary["loss"] == loss
            assert (summary["minibatch"]["size"], summary["minibatch"]["unit"]) == minibatch
            metrics = pd.read_csv(families_run / f"results/cv/{value}/fold{fold}/metrics.csv")
            assert {"loss", "accuracy", "ap"} <= set(metrics.columns)
            assert sorted(metrics[metrics["split"] == "test"]["epoch"]) == [1, 2]
    summary = json.loads((families_run / "results/cv/unet/fold0/summary.json").read_text())
    assert summary["class_weights"] is True  # on by default for the unet's weighted cross-entropy


def test_the_chosen_family_picks_with_its_extraction(families_run):
    best = json.loads((families_run / "results/cv/best.json").read_text())
    table = pd.read_csv(families_run / "results/cv/aggregate.csv")
    assert set(table["value"]) == {"resnet8", "unet"}
    summary = json.loads((families_run / "results/train/summary.json").read_text())
    assert summary["config"]["model"]["name"] == best["value"]
    logs = "".join(p.read_text() for p in (families_run / "logs/score").glob("*.log"))
    assert "(nms)" in logs and "(blob)" not in logs  # auto: NMS for every family
    picks = starfile.read(families_run / "results/picks/particles.star")
    assert len(picks) > 0 and {"rlnCoordinateX", "rlnCoordinateY"} <= set(picks.columns)


def test_the_report_shows_both_families(families_run):
    rst = (families_run / "results/report/summary.rst").read_text()
    assert "model" in rst and "resnet8" in rst and "unet" in rst
    result = snakemake(families_run, "--report", "report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "cv_metric_vs_value.png" in (families_run / "report.html").read_text()
