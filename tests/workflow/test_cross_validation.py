"""A real 2-value x 2-fold cross-validation through Snakemake, and what adding a value reruns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.workflow.helpers import TINY_CONFIG, make_workdir, merge, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.workflow

CV = {"enabled": True, "parameter": "learning_rate", "values": [0.002, 0.005], "folds": 2, "seed": 1}
SMALL = {"train": {"epochs": 2, "epoch_size": 8}, "cv": CV}


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("cv"), **SMALL)
    assert planned_jobs(workdir)["cv_train"] == 4
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def test_folds_are_disjoint_cover_the_training_set_and_are_stratified(cv_run):
    split = json.loads((cv_run / "results/split/split.json").read_text())
    folds = json.loads((cv_run / "results/cv/folds.json").read_text())
    held_out = [set(f["test"]) for f in folds["folds"]]
    assert len(held_out) == 2 and not held_out[0] & held_out[1]
    assert held_out[0] | held_out[1] == set(split["train"])
    assert not set(split["test"]) & (held_out[0] | held_out[1])  # the test split never enters the folds
    for fold in folds["folds"]:
        assert set(fold["train"]) == set(split["train"]) - set(fold["test"])
    # Stratified: the two micrographs with the most labels are in different folds.
    counts = folds["label_counts"]
    top_two = sorted(counts, key=counts.get)[-2:]
    assert [any(name in h for h in held_out) for name in top_two] == [True, True]
    assert {i for name in top_two for i, h in enumerate(held_out) if name in h} == {0, 1}


def test_aggregate_table_matches_the_fold_metrics(cv_run):
    table = pd.read_csv(cv_run / "results/cv/aggregate.csv", dtype={"value": str})
    for value in ("0.002", "0.005"):
        folds = [pd.read_csv(cv_run / f"results/cv/{value}/fold{k}/metrics.csv") for k in (0, 1)]
        for epoch in (1, 2):
            aps = [f[(f["split"] == "test") & (f["epoch"] == epoch)]["ap"].item() for f in folds]
            row = table[(table["value"] == value) & (table["epoch"] == epoch)].iloc[0]
            assert row["ap_mean"] == pytest.approx(np.mean(aps))
            assert row["ap_sd"] == pytest.approx(np.std(aps, ddof=1))
            assert row["folds"] == 2


def test_final_model_is_trained_with_the_chosen_value_and_epochs(cv_run):
    table = pd.read_csv(cv_run / "results/cv/aggregate.csv", dtype={"value": str})
    best = json.loads((cv_run / "results/cv/best.json").read_text())
    top = table.loc[table["ap_mean"].idxmax()]
    assert (best["value_key"], best["epoch"]) == (top["value"], top["epoch"])
    summary = json.loads((cv_run / "results/train/summary.json").read_text())
    assert summary["config"]["learning_rate"] == best["value"]
    assert summary["config"]["epochs"] == best["epoch"] == summary["best_epoch"]
    assert summary["selection_metric"] == "last epoch"  # the test split is not used to choose
    assert summary["cv_choice"]["value"] == best["value"]
    metrics = pd.read_csv(cv_run / "results/train/metrics.csv")
    assert sorted(metrics[metrics["split"] == "test"]["epoch"]) == list(range(1, best["epoch"] + 1))


def test_adding_a_value_schedules_only_its_folds_and_what_follows(cv_run):
    config = write_config(
        cv_run, merge(TINY_CONFIG, merge(SMALL, {"cv": {"values": [0.002, 0.005, 0.01]}})), "more.yaml"
    )
    jobs = planned_jobs(cv_run, "--configfile", str(config))
    assert jobs == {
        "cv_train": 2,
        "cv_aggregate": 1,
        "train": 1,
        "score": 2,
        "merge_scores": 1,
        "threshold": 1,
        "picks": 1,
        "plots": 1,
        "plot_overview": 1,
        "plot_preprocessing": 1,
        "plot_cv": 1,
        "report_summary": 1,
        "all": 1,
    }


def test_invalid_cross_validation_values_are_config_errors(tmp_path):
    workdir = make_workdir(tmp_path, n_micrographs=3, cv={**CV, "values": [0.002, -1]})
    result = snakemake(workdir, "--dry-run")
    assert result.returncode != 0 and "not a valid train.learning_rate" in result.stdout + result.stderr


def test_report_with_cross_validation_figures(cv_run):
    result = snakemake(cv_run, "--report", "report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    html = (cv_run / "report.html").read_text()
    assert "System Message" not in html and "Unknown target name" not in html
    for figure in ("cv_metric_vs_value.png", "cv_metric_vs_epoch.png", "cv_fold_curves.png"):
        assert figure in html
    assert "Cross-validation" in (cv_run / "results/report/summary.rst").read_text()
