"""Training diagnostics from the per-epoch metrics, in the words of the guidelines users follow.

Each check reads the metrics table (one row per epoch and split) and the run summary, and returns
findings: ``{"id", "message", "evidence"}``. Nothing here parses free text.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..io.records import TrainSummary
from ..training.loop import TrainConfig

UNDERFIT_LOSS = 1000.0
UNDERFIT_ACCURACY = 0.60
TREND_EPOCHS = 3  # "over several epochs": at least this many epochs of opposite trends
IMPROVEMENT = 1e-3  # smaller metric changes count as no change


def _trained(metrics: pd.DataFrame) -> pd.DataFrame:
    """The rows of trained epochs (epoch 0, the evaluated starting model of train.init, trained nothing)."""
    return metrics[metrics["epoch"] > 0]


def _split(metrics: pd.DataFrame, split: str) -> pd.DataFrame:
    trained = _trained(metrics)
    return trained[trained["split"] == split].sort_values("epoch").reset_index(drop=True)


def underfitting(metrics: pd.DataFrame) -> list[dict]:
    train = _split(metrics, "train")
    objective = train["objective"].to_numpy(float)
    trained = _trained(metrics)
    accuracy = trained.groupby("epoch")["accuracy"].min().to_numpy(float)
    reasons = []
    if np.isnan(objective).any() or np.isnan(trained["loss"].to_numpy(float)).any():
        reasons.append("the loss became NaN")
    elif len(objective) and objective.min() >= UNDERFIT_LOSS:
        reasons.append(f"the training loss stayed >= {UNDERFIT_LOSS:g} (lowest {objective.min():.4g})")
    if len(accuracy) and accuracy[-1] <= UNDERFIT_ACCURACY:
        reasons.append(f"accuracy ended at {accuracy[-1]:.0%} (<= {UNDERFIT_ACCURACY:.0%})")
    if not reasons:
        return []
    return [
        {
            "id": "underfitting",
            "message": "Underfitting: increase the initial and final learning rates, then the number of epochs.",
            "evidence": "; ".join(reasons),
        }
    ]


def _longest_opposite_run(train_loss: np.ndarray, test_loss: np.ndarray) -> tuple[int, int]:
    """Longest run of consecutive epoch steps where the train loss falls and the test loss rises:
    (number of steps, index of the epoch where the run starts)."""
    opposite = (np.diff(train_loss) < 0) & (np.diff(test_loss) > 0)
    best, start, length = 0, 0, 0
    for i, flag in enumerate(opposite):
        length = length + 1 if flag else 0
        if length > best:
            best, start = length, i - length + 1
    return best, start


def overfitting(metrics: pd.DataFrame, best_epoch: int) -> list[dict]:
    train, test = _split(metrics, "train"), _split(metrics, "test")
    if test.empty:
        return []
    steps, start = _longest_opposite_run(train["loss"].to_numpy(float), test["loss"].to_numpy(float))
    if steps < TREND_EPOCHS - 1:
        return []
    epochs = train["epoch"].to_numpy()
    first, last = int(epochs[start]), int(epochs[start + steps])
    accuracy_note = ""
    if (
        train["accuracy"].iloc[start + steps] > train["accuracy"].iloc[start]
        and test["accuracy"].iloc[start + steps] < test["accuracy"].iloc[start]
    ):
        accuracy_note = "; train accuracy rose while test accuracy fell"
    return [
        {
            "id": "overfitting",
            "message": f"Overfitting: increase the final learning rate; the best epoch before divergence (epoch {best_epoch}) was used.",
            "evidence": f"from epoch {first} to {last} the train loss fell while the test loss rose{accuracy_note}",
        }
    ]


def epochs_advice(metrics: pd.DataFrame, metric: str) -> list[dict]:
    """Still improving at the last epoch -> more epochs; stagnating from epoch E -> about 1.5 x E epochs."""
    test = _split(metrics, "test")
    if len(test) < 2:
        return []
    values = test[metric].to_numpy(float)
    if metric == "loss":
        values = -values
    epochs = test["epoch"].to_numpy()
    best = int(np.nanargmax(values))
    if best == len(values) - 1 and values[-1] - values[-2] > IMPROVEMENT:
        return [
            {
                "id": "still_improving",
                "message": "Still improving at the last epoch: train for more epochs.",
                "evidence": f"test {metric} rose from {abs(values[-2]):.4g} to {abs(values[-1]):.4g} in the last epoch",
            }
        ]
    plateau_from = int(epochs[best])
    if len(values) - 1 - best >= 2:
        suggestion = max(1, math.ceil(1.5 * plateau_from))
        return [
            {
                "id": "stagnating",
                "message": f"Stagnating from epoch {plateau_from}: about {suggestion} epochs are enough.",
                "evidence": f"test {metric} did not improve after epoch {plateau_from} (of {int(epochs[-1])})",
            }
        ]
    return []


def no_picks(metrics: pd.DataFrame, n_picks: int | None) -> list[dict]:
    test = _split(metrics, "test")
    model_silent = not test.empty and float(test["picks_per_micrograph"].max()) == 0.0
    if n_picks == 0 or model_silent:
        evidence = (
            "no pick above the threshold"
            if n_picks == 0
            else "the model scored no pixel above 0 on the test micrographs"
        )
        return [
            {
                "id": "no_particles",
                "message": "No particles picked: use class weights, or lower the initial learning rate.",
                "evidence": evidence,
            }
        ]
    return []


def start_kept(summary: TrainSummary) -> list[dict]:
    """Training from a model file, when no epoch beat the start on the held-out metric."""
    if summary.best_epoch != 0 or summary.init.init == "scratch":
        return []
    return [
        {
            "id": "start_kept",
            "message": "No epoch beat the starting model on the held-out micrographs, so the starting model "
            "(train.init) was kept: lower train.learning_rate, or label more particles, for training to help.",
            "evidence": f"held-out {summary.selection_metric} was highest at epoch 0 (before training)",
        }
    ]


def prior_checks(metrics: pd.DataFrame, summary: TrainSummary) -> list[dict]:
    findings = []
    if summary.loss_fell_back_to_pn:
        findings.append(
            {
                "id": "pn_fallback",
                "message": "The loss fell back to PN: the expected particles per micrograph are below the labeled average. "
                "Raise train.expected_particles if there are more particles than labeled.",
                "evidence": f"pi = {summary.pi:.5f} <= p_obs = {summary.p_obs:.5f}",
            }
        )
    test = _split(metrics, "test")
    if not test.empty and float(test["adjusted_precision"].max()) > 1.0:
        findings.append(
            {
                "id": "adjusted_precision",
                "message": "Adjusted precision above 1: train.expected_particles is probably set too high.",
                "evidence": f"highest test adjusted precision {float(test['adjusted_precision'].max()):.3f}",
            }
        )
    return findings


def setup_checks(summary: TrainSummary, particle_diameter_px: float) -> list[dict]:
    findings = []
    rf = summary.receptive_field
    if rf and particle_diameter_px >= rf:
        findings.append(
            {
                "id": "receptive_field",
                "message": "The particle does not fit the receptive field: downsample more or use a larger model.",
                "evidence": f"particle diameter {particle_diameter_px:.0f} px >= receptive field {rf} px",
            }
        )
    n_labels = summary.n_train_labels
    autoencoder = TrainConfig.from_dict(summary.config).model.autoencoder
    if 0 < n_labels <= 250 and autoencoder == 0:
        findings.append(
            {
                "id": "few_labels",
                "message": f"Very few labels: consider the autoencoder term (train.autoencoder about {10 / n_labels:.3g} = 10/N, "
                "with a conv model).",
                "evidence": f"{n_labels} labeled particles in the training micrographs",
            }
        )
    return findings


def diagnose(
    metrics: pd.DataFrame, summary: TrainSummary, particle_diameter_px: float, n_picks: int | None
) -> list[dict]:
    """All findings for one training run."""
    return (
        underfitting(metrics)
        + overfitting(metrics, summary.best_epoch)
        + epochs_advice(metrics, TrainConfig.from_dict(summary.config).selection_metric)
        + no_picks(metrics, n_picks)
        + start_kept(summary)
        + prior_checks(metrics, summary)
        + setup_checks(summary, particle_diameter_px)
    )
