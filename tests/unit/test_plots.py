"""The figures say what they show in plain words, with whole-number counts and axes that start where they should."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pickflow.io.records import AtThreshold, HeldOut, Threshold
from pickflow.report import plots


def _text(fig) -> str:
    ax_texts = [
        t
        for ax in fig.axes
        for t in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), *ax.get_legend_handles_labels()[1])
    ]
    return " | ".join(ax_texts).lower()


def _metrics() -> pd.DataFrame:
    rows = []
    for epoch in (1, 2, 3):
        for split in ("train", "test"):
            rows.append(
                {
                    "epoch": epoch,
                    "split": split,
                    "loss": 0.3 / epoch,
                    "accuracy": 0.97,
                    "precision": 0.4,
                    "ap": 0.5 + 0.1 * epoch,
                }
            )
    return pd.DataFrame(rows)


def test_training_figure_shows_particle_finding_and_loss_not_pixel_accuracy(tmp_path):
    fig = plots.training_curves(_metrics(), best_epoch=2, path=tmp_path / "training.png")
    assert (tmp_path / "training.png").stat().st_size > 0
    text = _text(fig)
    assert "average precision" in text and "loss" in text and "held-out test micrographs" in text
    assert "accuracy" not in text and "soft precision" not in text
    ap_axis, loss_axis = fig.axes
    assert ap_axis.get_ylim() == (0.0, 1.0) and loss_axis.get_ylim()[0] == 0.0
    assert all(float(t).is_integer() for t in ap_axis.get_xticks())  # epochs are whole numbers


def test_picks_per_micrograph_counts_whole_picks_and_micrographs_from_zero(tmp_path):
    counts = {f"m{i}": n for i, n in enumerate([0, 3, 5, 5, 6, 7, 40])}
    fig = plots.picks_per_micrograph(counts, tmp_path / "picks.png", limits=(1.5, 12.5))
    (ax,) = fig.axes
    assert ax.get_xlabel() == "particles picked on a micrograph" and ax.get_ylabel() == "number of micrographs"
    assert ax.get_xlim()[0] == 0
    assert all(float(t).is_integer() for t in (*ax.get_xticks(), *ax.get_yticks()))
    edges = sorted({p.get_x() for p in ax.patches})
    assert all(float(e).is_integer() for e in edges)
    assert sum(p.get_height() for p in ax.patches) == len(counts)
    assert ax.get_title() == "66 particles on 7 micrographs"
    assert {line.get_xdata()[0] for line in ax.lines if len(line.get_xdata())} == {1.5, 12.5}


def test_precision_recall_and_score_axes_in_plain_words(tmp_path):
    curve = pd.DataFrame({"recall": [0.1, 0.5, 0.9], "precision": [0.9, 0.7, 0.4]})
    held_out = HeldOut(
        n_labels=10,
        n_picks=12,
        average_precision=0.6,
        best_f1=0.6,
        best_f1_threshold=0.2,
        best_f1_precision=0.7,
        best_f1_recall=0.5,
        matching_radius=5.0,
        expected_picks=10,
        recall_at_expected=0.5,
    )
    at = AtThreshold(threshold=0.2, precision=0.7, recall=0.5, f1=0.6, n_picks=7, implied_precision=0.7)
    threshold = Threshold(
        threshold=0.2, mode="f1", reason="", test_micrographs=["m"], held_out=held_out, at_threshold=at, note=""
    )
    pr = plots.precision_recall(curve, threshold, tmp_path / "pr.png")
    assert "share of labeled particles found" in _text(pr) and pr.axes[0].get_xlim() == (0.0, 1.0)
    scores = plots.score_histogram(np.linspace(-6, 4, 50), 0.2, tmp_path / "scores.png")
    assert "log-odds" in _text(scores) and "logit" not in _text(scores)


def test_overview_frames_micrographs_with_unusual_counts_in_red(tmp_path):
    image = np.random.default_rng(0).normal(size=(400, 300)).astype(np.float32)
    panels = [
        {"name": name, "image": image, "scale": (2.0, 2.0), "picks": pd.DataFrame({"x": [100.0] * n, "y": [80.0] * n})}
        for name, n in (("usual", 10), ("empty", 0), ("crowded", 60))
    ]
    fig = plots.micrograph_overview(panels, radius=8, limits=(3, 30), path=tmp_path / "overview.png")
    titles = {ax.get_title().split("\n")[0]: ax.title for ax in fig.axes if ax.get_title()}
    assert titles["usual"].get_color() == "black"
    assert "unusually few" in titles["empty"].get_text() and titles["empty"].get_color() == "red"
    assert "unusually many" in titles["crowded"].get_text() and titles["crowded"].get_color() == "red"
    assert max(ax.images[0].get_array().shape[0] for ax in fig.axes if ax.images) <= 192  # thumbnails
