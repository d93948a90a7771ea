"""Figures of a picking run (matplotlib, no display needed)."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.patches import Circle

from .atomic import atomic_path


def _save(fig: plt.Figure, path: str | os.PathLike[str]) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)


def training_curves(metrics: pd.DataFrame, best_epoch: int, path: str | os.PathLike[str]) -> None:
    """Loss, accuracy, precision and particle AP per epoch, train vs test, best epoch marked."""
    panels = [
        ("loss", "loss (BCE, pixels)"),
        ("accuracy", "accuracy (pixels)"),
        ("precision", "soft precision"),
        ("ap", "particle AP"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
    for ax, (column, title) in zip(axes, panels, strict=True):
        for split, rows in metrics.groupby("split"):
            ax.plot(rows["epoch"], rows[column], marker="o", label=split)
        ax.axvline(best_epoch, color="grey", linestyle="--", linewidth=1, label=f"chosen epoch {best_epoch}")
        ax.set(title=title, xlabel="epoch")
    axes[0].legend(fontsize=8)
    _save(fig, path)


def precision_recall(curve: pd.DataFrame, threshold: dict, path: str | os.PathLike[str]) -> None:
    """Held-out precision-recall curve with the chosen threshold marked."""
    fig, ax = plt.subplots(figsize=(4.5, 4))
    if len(curve):
        ax.plot(
            curve["recall"],
            curve["precision"],
            label=f"AP {threshold.get('held_out', {}).get('average_precision', 0):.3f}",
        )
        at = threshold.get("at_threshold") or {}
        if at:
            ax.plot(
                at["recall"],
                at["precision"],
                "o",
                color="red",
                label=f"threshold {threshold['threshold']:.2f} ({threshold['mode']})",
            )
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no held-out labels", ha="center")
    ax.set(
        xlabel="recall",
        ylabel="precision (vs partial labels)",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title="held-out micrographs",
    )
    _save(fig, path)


def picks_per_micrograph(counts: dict, path: str | os.PathLike[str]) -> None:
    """Histogram of the number of picks per micrograph."""
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    values = np.array(list(counts.values()), dtype=float)
    ax.hist(values, bins=min(30, max(5, len(values))))
    ax.set(
        xlabel="picks per micrograph",
        ylabel="micrographs",
        title=f"{int(values.sum())} picks on {len(values)} micrographs",
    )
    _save(fig, path)


def overlays(panels: list[dict], radius: float, path: str | os.PathLike[str]) -> None:
    """Picks (green circles of the particle radius) and labels (magenta crosses) on preprocessed
    micrographs. Each panel: name, image, scale (full-size px per preprocessed px, (y, x)),
    picks and labels (full-size coordinates; labels None for micrographs unseen in training)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.6), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        image, (sy, sx), picks, labels = panel["image"], panel["scale"], panel["picks"], panel["labels"]
        lo, hi = np.percentile(image, [1, 99])
        ax.imshow(image, cmap="gray", vmin=lo, vmax=hi)
        centres = np.column_stack([picks["x"] / sx, picks["y"] / sy])
        ax.add_collection(
            PatchCollection([Circle(c, radius) for c in centres], facecolor="none", edgecolor="lime", linewidth=0.8)
        )
        if labels is not None and len(labels):
            ax.scatter(labels["x"] / sx, labels["y"] / sy, marker="x", color="magenta", s=12, linewidths=0.8)
        role = "labeled, crosses = labels" if labels is not None else "unseen in training"
        ax.set_title(f"{panel['name']}: {len(picks)} picks ({role})", fontsize=9)
        ax.axis("off")
    _save(fig, path)
