"""Figures of a picking run (matplotlib, no display needed)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import cast

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from matplotlib.ticker import MaxNLocator

from ..io.atomic import atomic_path
from ..io.records import CrossValidation, Threshold

METRIC_NAMES = {"ap": "average precision", "auprc": "pixel average precision", "precision": "precision", "loss": "loss"}
SPLIT_NAMES = {"train": "training micrographs", "test": "held-out test micrographs"}


def _save(fig: Figure, path: str | os.PathLike[str]) -> Figure:
    """Write the figure; return it (closed) so that callers and tests can read its axes."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return fig


def placeholder(message: str, path: str | os.PathLike[str]) -> Figure:
    """A figure that only states why there is nothing to plot (e.g. no training in this run)."""
    fig, ax = plt.subplots(figsize=(6, 1.6))
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return _save(fig, path)


def _whole_numbers(axis) -> None:
    axis.set_major_locator(MaxNLocator(integer=True))


def training_curves(metrics: pd.DataFrame, best_epoch: int, path: str | os.PathLike[str]) -> Figure:
    """How well the model finds particles (average precision) and its training loss per epoch, on the training
    and the held-out micrographs, with the epoch used marked. Pixel-level metrics stay in metrics.csv."""
    panels = [
        ("ap", "Finding particles (higher is better)", "average precision (0 to 1)"),
        ("loss", "Training loss (lower is better)", "loss"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(9, 3.4))
    for ax, (column, title, ylabel) in zip(axes, panels, strict=True):
        for split, rows in metrics.groupby("split"):
            ax.plot(rows["epoch"], rows[column], marker="o", label=SPLIT_NAMES.get(cast(str, split), split))
        ax.axvline(best_epoch, color="grey", linestyle="--", linewidth=1, label=f"model used: epoch {best_epoch}")
        ax.set(title=title, xlabel="epoch (one pass of training updates)", ylabel=ylabel)
        _whole_numbers(ax.xaxis)
    axes[0].set_ylim(0, 1)
    axes[1].set_ylim(bottom=min(0.0, float(np.nanmin(metrics["loss"])) if len(metrics) else 0.0))
    axes[0].legend(fontsize=8)
    return _save(fig, path)


def precision_recall(curve: pd.DataFrame, threshold: Threshold, path: str | os.PathLike[str]) -> Figure:
    """Held-out precision-recall curve with the chosen threshold marked."""
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    if len(curve):
        ap = threshold.held_out.average_precision if threshold.held_out else 0
        ax.plot(curve["recall"], curve["precision"], label=f"average precision {ap:.3f}")
        at = threshold.at_threshold
        if at:
            ax.plot(
                at.recall,
                at.precision,
                "o",
                color="red",
                label=f"threshold used: {threshold.threshold:.2f} ({threshold.mode})",
            )
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no held-out labels", ha="center")
    ax.set(
        xlabel="recall: share of labeled particles found",
        ylabel="precision: share of picks on a label",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title="Picking quality on held-out micrographs",
    )
    return _save(fig, path)


def picks_per_micrograph(counts: dict, path: str | os.PathLike[str], limits: tuple[float, float] | None = None):
    """Histogram of the number of particles picked per micrograph (whole numbers), with the range outside which a
    micrograph is flagged as unusual when ``limits`` is given."""
    fig, ax = plt.subplots(figsize=(5, 3.4))
    values = np.array(list(counts.values()), dtype=int)
    top = int(values.max()) if len(values) else 0
    width = max(1, int(np.ceil((top + 1) / 30)))  # at most 30 bars, each a whole number of picks wide
    ax.hist(values, bins=cast(Sequence[float], np.arange(0, top + width + 1, width)), color="tab:blue")
    if limits is not None:
        for limit in limits:
            if limit >= 0:
                ax.axvline(limit, color="red", linestyle="--", linewidth=1)
        ax.plot([], [], color="red", linestyle="--", linewidth=1, label="unusual below / above")
        ax.legend(fontsize=8)
    ax.set(
        xlabel="particles picked on a micrograph",
        ylabel="number of micrographs",
        title=f"{int(values.sum())} particles on {len(values)} micrographs",
    )
    ax.set_xlim(left=0)
    _whole_numbers(ax.xaxis)
    _whole_numbers(ax.yaxis)
    return _save(fig, path)


def overlays(panels: list[dict], radius: float, path: str | os.PathLike[str]) -> Figure:
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
    return _save(fig, path)


def preprocessing_thumbnails(panels: list[tuple[str, np.ndarray, np.ndarray]], path: str | os.PathLike[str]) -> Figure:
    """A few micrographs before (input) and after preprocessing."""
    fig, axes = plt.subplots(2, len(panels), figsize=(3.2 * len(panels), 6.4), squeeze=False)
    for column, (name, before, after) in enumerate(panels):
        for row, (image, label) in enumerate(((before, "input"), (after, "preprocessed"))):
            lo, hi = np.percentile(image, [1, 99])
            axes[row, column].imshow(image, cmap="gray", vmin=lo, vmax=hi)
            axes[row, column].set_title(f"{name} ({label}, {image.shape[1]}x{image.shape[0]})", fontsize=8)
            axes[row, column].axis("off")
    return _save(fig, path)


def normalization_statistics(metas: list[dict], path: str | os.PathLike[str]) -> Figure:
    """Per-micrograph normalization: the fitted mean and standard deviation, and the share of pixels in the main
    population (GMM)."""
    names = [m["micrograph"] for m in metas]
    stats = [m["normalization"] for m in metas]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    if "mu" in stats[0]:
        axes[0].scatter([s["mu"] for s in stats], [s["std"] for s in stats], s=12)
        axes[0].set(
            xlabel="mean pixel value (input units)",
            ylabel="pixel standard deviation",
            title=f"{len(names)} micrographs: brightness and contrast",
        )
    if "pi" in stats[0]:
        axes[1].hist([s["pi"] for s in stats], bins=20)
        axes[1].set(
            xlabel="share of pixels in the main population",
            ylabel="number of micrographs",
            title="Main pixel population (ice)",
        )
    else:
        axes[1].hist([m["output"]["std"] for m in metas], bins=20)
        axes[1].set(xlabel="standard deviation after normalization", ylabel="number of micrographs")
    _whole_numbers(axes[1].yaxis)
    return _save(fig, path)


def score_histogram(scores: np.ndarray, threshold: float, path: str | os.PathLike[str]) -> Figure:
    """Distribution of candidate scores with the chosen threshold."""
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.hist(scores, bins=60, color="grey")
    ax.axvline(threshold, color="red", label=f"threshold {threshold:.2f}: picks are to the right")
    ax.set(
        xlabel="score (log-odds: higher = more particle-like)",
        ylabel="candidate positions (log scale)",
        yscale="log",
        title=f"Scores of {len(scores)} candidate positions",
    )
    ax.legend(fontsize=8)
    return _save(fig, path)


def cv_metric_vs_value(
    table: pd.DataFrame, folds: pd.DataFrame, best: CrossValidation, path: str | os.PathLike[str]
) -> Figure:
    """The metric at each value's best epoch: every fold as a point, mean +- sd, the chosen value marked."""
    metric = best.metric
    values = list(dict.fromkeys(table["value"]))
    fig, ax = plt.subplots(figsize=(max(4.5, 1.2 * len(values)), 3.6))
    for i, value in enumerate(values):
        rows = table[table["value"] == value]
        top = rows.loc[rows[f"{metric}_mean"].idxmin() if metric == "loss" else rows[f"{metric}_mean"].idxmax()]
        points = folds[(folds["value"] == value) & (folds["epoch"] == top["epoch"])][metric]
        ax.scatter(np.full(len(points), i), points, color="grey", s=14, zorder=2)
        ax.errorbar(
            i,
            top[f"{metric}_mean"],
            yerr=top[f"{metric}_sd"],
            fmt="o",
            color="red" if value == best.value_key else "black",
            capsize=4,
            zorder=3,
        )
    ax.set_xticks(range(len(values)), values)
    ax.set(
        xlabel=best.parameter,
        ylabel=f"{METRIC_NAMES.get(metric, metric)} on the held-out fold",
        title=f"chosen: {best.value_key} at epoch {best.epoch}",
    )
    return _save(fig, path)


def cv_metric_vs_epoch(table: pd.DataFrame, metric: str, path: str | os.PathLike[str]) -> Figure:
    """Fold-mean metric per epoch, one line per value (shaded: +- sd)."""
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for value, rows in table.groupby("value", sort=False):
        mean, sd = rows[f"{metric}_mean"].to_numpy(float), np.nan_to_num(rows[f"{metric}_sd"].to_numpy(float))
        ax.plot(rows["epoch"], mean, marker="o", label=str(value))
        ax.fill_between(rows["epoch"], mean - sd, mean + sd, alpha=0.15)
    ax.set(xlabel="epoch", ylabel=f"{METRIC_NAMES.get(metric, metric)} on the held-out fold (mean)")
    _whole_numbers(ax.xaxis)
    ax.legend(fontsize=8)
    return _save(fig, path)


def cv_fold_curves(
    runs: dict[tuple[str, int], pd.DataFrame], chosen_epoch: int, path: str | os.PathLike[str]
) -> Figure:
    """Training curves of every cross-validation job: loss and particle AP per epoch, train vs held-out fold,
    with the epoch chosen by cross-validation marked."""
    values = list(dict.fromkeys(v for v, _ in runs))
    fig, axes = plt.subplots(len(values), 2, figsize=(9, 2.8 * len(values)), squeeze=False)
    for row, value in enumerate(values):
        for (v, fold), metrics in runs.items():
            if v != value:
                continue
            for split, style in (("train", "--"), ("test", "-")):
                rows = metrics[metrics["split"] == split]
                axes[row, 0].plot(rows["epoch"], rows["loss"], style, label=f"fold {fold} {split}")
                axes[row, 1].plot(rows["epoch"], rows["ap"], style, label=f"fold {fold} {split}")
        for ax in axes[row]:
            ax.axvline(chosen_epoch, color="grey", linestyle=":", linewidth=1)
        axes[row, 0].set(title=f"{value}: loss", xlabel="epoch")
        axes[row, 1].set(title=f"{value}: average precision", xlabel="epoch")
        for ax in axes[row]:
            _whole_numbers(ax.xaxis)
    axes[0, 1].legend(fontsize=7)
    return _save(fig, path)


def _thumbnail(image: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """The image reduced by an integer block mean to at most ``size`` pixels a side, and the factor used."""
    factor = max(1, int(np.ceil(max(image.shape) / size)))
    h, w = image.shape[0] // factor * factor, image.shape[1] // factor * factor
    small = image[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))
    return small, factor


def micrograph_overview(
    panels: list[dict], radius: float, limits: tuple[float, float], path: str | os.PathLike[str], columns: int = 8
) -> Figure:
    """Picks (green circles) on thumbnails of many micrographs; a micrograph whose pick count is outside ``limits``
    gets a red frame and title. Each panel: name, image (preprocessed), scale (full-size px per preprocessed px,
    (y, x)) and picks (full-size coordinates)."""
    columns = max(1, min(columns, len(panels)))
    rows = max(1, -(-len(panels) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.1 * columns, 2.3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, panel in zip(axes.flat, panels, strict=False):
        image, factor = _thumbnail(panel["image"], 192)
        (sy, sx), picks = panel["scale"], panel["picks"]
        lo, hi = np.percentile(image, [1, 99])
        ax.imshow(image, cmap="gray", vmin=lo, vmax=hi)
        centres = np.column_stack([picks["x"] / sx / factor, picks["y"] / sy / factor])
        ax.add_collection(
            PatchCollection(
                [Circle(c, radius / factor) for c in centres], facecolor="none", edgecolor="lime", linewidth=0.5
            )
        )
        n = len(picks)
        unusual = "few" if n < limits[0] else "many" if n > limits[1] else None
        ax.set_title(
            f"{panel['name']}\n{n} picks" + (f" (unusually {unusual})" if unusual else ""),
            fontsize=7,
            color="red" if unusual else "black",
        )
        if unusual:
            ax.axis("on")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set(color="red", linewidth=2.5)
    fig.suptitle(
        f"Picks on {len(panels)} micrographs; red: unusually few (< {max(limits[0], 0):.0f}) "
        f"or many (> {limits[1]:.0f}) picks",
        fontsize=10,
    )
    return _save(fig, path)
