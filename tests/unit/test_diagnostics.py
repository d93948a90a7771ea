"""Each diagnostic on a metrics table constructed to show (or not show) its pattern."""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from pickflow.io.records import SCRATCH, Minibatch, TrainSummary
from pickflow.report.diagnostics import (
    diagnose,
    epochs_advice,
    no_picks,
    overfitting,
    prior_checks,
    setup_checks,
    underfitting,
)
from pickflow.training.loop import TrainConfig


def table(
    train_loss, test_loss, test_ap=None, train_acc=None, test_acc=None, objective=None, picks=100.0, adjusted=0.5
):
    n = len(train_loss)
    test_ap = test_ap if test_ap is not None else [0.5] * n
    rows = []
    for i in range(n):
        common = {
            "epoch": i + 1,
            "objective": (objective or train_loss)[i],
            "picks_per_micrograph": picks,
            "adjusted_precision": adjusted,
            "precision": 0.2,
            "auprc": 0.3,
        }
        rows.append(
            {**common, "split": "train", "loss": train_loss[i], "accuracy": (train_acc or [0.95] * n)[i], "ap": 0.6}
        )
        rows.append(
            {**common, "split": "test", "loss": test_loss[i], "accuracy": (test_acc or [0.95] * n)[i], "ap": test_ap[i]}
        )
    return pd.DataFrame(rows)


HEALTHY = table([0.5, 0.4, 0.35, 0.33], [0.5, 0.42, 0.38, 0.37], test_ap=[0.3, 0.5, 0.6, 0.6])
SUMMARY = TrainSummary(
    best_epoch=3,
    init=SCRATCH,
    selection_metric="ap",
    pi=0.03,
    p_obs=0.01,
    loss="GE-binomial",
    loss_fell_back_to_pn=False,
    class_weights=False,
    precision="fp32",
    minibatch=Minibatch(256, "crops"),
    receptive_field=71,
    train_micrographs=["a", "b"],
    eval_micrographs=["c"],
    n_train_labels=600,
    config=asdict(
        TrainConfig.from_dict({"expected_particles": 300, "selection_metric": "ap", "model": {"autoencoder": 0}})
    ),
)


def ids(findings):
    return [f["id"] for f in findings]


def test_a_healthy_run_has_no_findings():
    assert diagnose(HEALTHY, SUMMARY, particle_diameter_px=28, n_picks=500) == []


def test_underfitting_from_a_huge_loss_nan_or_low_accuracy():
    assert ids(underfitting(table([1500, 1200, 1100], [2, 2, 2]))) == ["underfitting"]
    assert ids(underfitting(table([0.5, np.nan, 0.4], [0.5, 0.5, 0.5]))) == ["underfitting"]
    low = underfitting(table([0.5, 0.4, 0.3], [0.5, 0.4, 0.3], test_acc=[0.5, 0.55, 0.58]))
    assert ids(low) == ["underfitting"] and "58%" in low[0]["evidence"]
    assert "increase the initial and final learning rates" in low[0]["message"]
    assert underfitting(HEALTHY) == []


def test_overfitting_needs_opposite_trends_over_several_epochs():
    diverging = table(
        [0.5, 0.4, 0.3, 0.2, 0.1],
        [0.5, 0.45, 0.5, 0.55, 0.6],
        train_acc=[0.9, 0.92, 0.94, 0.96, 0.98],
        test_acc=[0.9, 0.91, 0.9, 0.89, 0.88],
    )
    found = overfitting(diverging, best_epoch=2)
    assert (
        ids(found) == ["overfitting"]
        and "epoch 2" in found[0]["message"]
        and "from epoch 2 to 5" in found[0]["evidence"]
    )
    assert "train accuracy rose" in found[0]["evidence"]
    # train below test, both falling: not overfitting
    assert overfitting(table([0.2, 0.15, 0.1, 0.05], [0.5, 0.45, 0.4, 0.35]), best_epoch=4) == []
    # a single epoch of opposite trends is not "several epochs"
    assert overfitting(table([0.5, 0.4, 0.3], [0.5, 0.45, 0.46]), best_epoch=2) == []


def test_still_improving_and_stagnating():
    improving = epochs_advice(table([1] * 4, [1] * 4, test_ap=[0.2, 0.3, 0.4, 0.5]), "ap")
    assert ids(improving) == ["still_improving"] and "more epochs" in improving[0]["message"]
    flat = epochs_advice(table([1] * 8, [1] * 8, test_ap=[0.2, 0.4, 0.6, 0.6, 0.59, 0.6, 0.58, 0.6]), "ap")
    assert ids(flat) == ["stagnating"] and "epoch 3" in flat[0]["message"] and "about 5 epochs" in flat[0]["message"]
    loss_flat = epochs_advice(table([1] * 5, [0.5, 0.3, 0.31, 0.32, 0.33]), "loss")
    assert ids(loss_flat) == ["stagnating"] and "epoch 2" in loss_flat[0]["message"]


def test_no_particles_picked():
    assert ids(no_picks(HEALTHY, n_picks=0)) == ["no_particles"]
    silent = no_picks(table([1, 1], [1, 1], picks=0.0), n_picks=None)
    assert ids(silent) == ["no_particles"] and "class weights" in silent[0]["message"]
    assert no_picks(HEALTHY, n_picks=10) == []


def test_pn_fallback_and_adjusted_precision():
    found = prior_checks(
        table([1, 1], [1, 1], adjusted=1.4), replace(SUMMARY, loss_fell_back_to_pn=True, pi=0.01, p_obs=0.01)
    )
    assert ids(found) == ["pn_fallback", "adjusted_precision"]
    assert "1.400" in found[1]["evidence"]


def test_receptive_field_and_few_labels():
    found = setup_checks(replace(SUMMARY, n_train_labels=200), particle_diameter_px=80)
    assert ids(found) == ["receptive_field", "few_labels"]
    assert "0.05" in found[1]["message"]  # 10 / 200
    with_autoencoder = asdict(TrainConfig.from_dict({"expected_particles": 300, "model": {"autoencoder": 0.05}}))
    assert setup_checks(replace(SUMMARY, n_train_labels=200, config=with_autoencoder), 20) == []
