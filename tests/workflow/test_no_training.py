"""Picking with a given model: no split and no training; labels, when given, only evaluate and set the threshold."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.workflow.helpers import make_workdir, planned_jobs, snakemake

pytestmark = pytest.mark.workflow

TRAINING_RULES = {"split", "train", "folds", "cv_train", "cv_aggregate"}
EXPECTED = 150  # TINY_CONFIG's train.expected_particles
N_MICROGRAPHS = 6


@pytest.fixture(scope="module")
def model_file(run_dir):
    """The model.pt of an earlier (tiny, real) training run."""
    return run_dir / "results" / "train" / "model.pt"


def _run(workdir):
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]


def test_no_label_run_picks_in_every_format_with_the_expected_count(tmp_path, model_file):
    workdir = make_workdir(
        tmp_path,
        labels={"coordinates": None},
        pick={"model": str(model_file), "threshold": {"mode": "expected"}},
    )
    planned = planned_jobs(workdir)
    assert planned["score"] == 2 and planned["picks"] == 1
    assert not TRAINING_RULES & set(planned) and "labels" not in planned
    _run(workdir)
    assert not (workdir / "results" / "train").exists() and not (workdir / "results" / "split").exists()

    threshold = json.loads((workdir / "results/pick/threshold.json").read_text())
    assert threshold["mode"] == "expected" and threshold["test_micrographs"] == [] and threshold["held_out"] == {}
    summary = json.loads((workdir / "results/picks/summary.json").read_text())
    # The threshold is the score of the (150 x 6)-th best candidate: ties (scores have 3 decimals) may add a few.
    assert EXPECTED * N_MICROGRAPHS <= summary["n_picks"] <= EXPECTED * N_MICROGRAPHS + 10
    assert len(summary["picks_per_micrograph"]) == N_MICROGRAPHS
    csv = pd.read_csv(workdir / "results/picks/particles.csv")
    assert len(csv) == summary["n_picks"] and (csv["score"] >= threshold["threshold"]).all()
    topaz = pd.read_csv(workdir / "results/picks/particles_topaz.txt", sep="\t")
    assert len(topaz) == len(csv)
    star = (workdir / "results/picks/particles.star").read_text()
    assert "_rlnCoordinateX" in star
    boxes = sorted((workdir / "results/picks/micrographs").glob("*.box"))
    assert len(boxes) == N_MICROGRAPHS
    assert sum(len(b.read_text().splitlines()) for b in boxes) == len(csv)

    front_page = (workdir / "results/report/summary.rst").read_text()
    assert f"the model file {model_file}; no training in this run" in front_page
    assert "none (labels.coordinates is null)" in front_page
    assert (workdir / "results/plots/training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = snakemake(workdir, "--report", "report.html")
    assert report.returncode == 0, report.stderr[-3000:]
    assert "no training in this run" in (workdir / "report.html").read_text()


def test_labeled_run_with_a_model_file_evaluates_on_every_labeled_micrograph(tmp_path, model_file):
    workdir = make_workdir(tmp_path, pick={"model": str(model_file)})
    planned = planned_jobs(workdir)
    assert not TRAINING_RULES & set(planned) and planned["labels"] == 1
    _run(workdir)
    assert not (workdir / "results" / "train").exists()

    labeled = sorted(pd.read_csv(workdir / "data/coordinates.csv")["micrograph"].str.replace(".png", "").unique())
    threshold = json.loads((workdir / "results/pick/threshold.json").read_text())
    assert threshold["test_micrographs"] == labeled and len(labeled) == N_MICROGRAPHS
    held = threshold["held_out"]
    assert held["n_labels"] == len(pd.read_csv(workdir / "data/coordinates.csv"))
    assert held["average_precision"] > 0.3  # a trained model: far above what chance gives
    assert held["expected_picks"] == EXPECTED * N_MICROGRAPHS and 0 < held["recall_at_expected"] <= 1
    assert threshold["mode"] == "f1"
    front_page = (workdir / "results/report/summary.rst").read_text()
    assert "all held out: they only evaluate the picks and set the threshold" in front_page


def _dry_run_error(workdir) -> str:
    result = snakemake(workdir, "--dry-run")
    assert result.returncode != 0, "the dry run should have failed"
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # no labels and a threshold that needs them
        (
            {"labels": {"coordinates": None}, "pick": {"model": "model.pt", "threshold": {"mode": "f1"}}},
            "pick.threshold.mode: 'f1' needs labeled micrographs",
        ),
        # a model file that does not exist
        ({"pick": {"model": "old_run/model.pt"}}, "pick.model: 'old_run/model.pt' is not a model file"),
        # no labels: auto means the general model of train.model's family (none is shipped for conv31)
        (
            {
                "labels": {"coordinates": None},
                "train": {"model": "conv31"},
                "pick": {"threshold": {"mode": "expected"}},
            },
            "no general model ships for train.model 'conv31'",
        ),
        ({"labels": {"coordinates": None}, "pick": {"model": "trained"}}, "pick.model: 'trained' needs labels"),
        # cross-validation trains models
        (
            {"pick": {"model": "model.pt"}, "cv": {"enabled": True, "values": [100, 150]}},
            "cv.enabled: cross-validation trains models, but pick.model is 'model.pt'",
        ),
    ],
)
def test_picking_without_training_config_errors(tmp_path, overrides, expected):
    workdir = make_workdir(tmp_path, n_micrographs=2, **overrides)
    (workdir / "model.pt").write_bytes(b"")  # exists, so only the threshold mode is wrong in the first case
    assert expected in _dry_run_error(workdir)
