"""Plots of a run: training curves, held-out precision-recall, picks per micrograph, overlays."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..io.coordinates import read_table
from ..io.records import PickSummary, Split, Threshold, TrainSummary
from ..preprocess.preprocessed import read_preprocessed
from ..report import plots


def _json(path: str) -> dict:
    return json.loads(Path(path).read_text())


def plot_run(inputs: dict, outputs: dict, preprocessed: str, picking_model: str, particle_radius: float) -> None:
    if inputs["summary"]:
        summary = TrainSummary.read(inputs["summary"])
        plots.training_curves(pd.read_csv(inputs["metrics"]), summary.best_epoch, outputs["training"])
    else:
        plots.placeholder(f"No training in this run: picked with {picking_model}", outputs["training"])
    threshold = Threshold.read(inputs["threshold"])
    if threshold.test_micrographs:
        plots.precision_recall(pd.read_csv(inputs["curve"]), threshold, outputs["precision_recall"])
    else:
        plots.placeholder("No labels: the picks are not evaluated", outputs["precision_recall"])
    pick_summary = PickSummary.read(inputs["pick_summary"])
    unusual = pick_summary.unusual_pick_counts
    plots.picks_per_micrograph(
        pick_summary.picks_per_micrograph, outputs["picks_per_micrograph"], (unusual.low, unusual.high)
    )
    scores = pd.concat([read_table(c)["score"] for c in inputs["candidates"]]).to_numpy(float)
    plots.score_histogram(scores, threshold.threshold, outputs["score_histogram"])
    picks = read_table(inputs["picks"])
    labels = read_table(inputs["labels"]) if inputs["labels"] else None
    split = Split.read(inputs["split"]) if inputs["split"] else Split(train=[], test=threshold.test_micrographs)
    labeled = set(labels["micrograph"]) if labels is not None else set()
    unseen = [m for m in sorted(pick_summary.picks_per_micrograph) if m not in labeled]
    panels = []
    for name in (split.test[:1] + split.train[:1] + unseen)[:3]:
        meta = _json(str(Path(preprocessed) / f"{name}.json"))
        panels.append(
            {
                "name": name,
                "image": read_preprocessed(Path(preprocessed) / f"{name}.mrc"),
                "scale": meta["scale"],
                "picks": picks[picks["micrograph"] == name],
                "labels": labels[labels["micrograph"] == name] if labels is not None and name in labeled else None,
            }
        )
    plots.overlays(panels, particle_radius, outputs["overlays"])


OPTIONAL_INPUTS = ("metrics", "summary", "labels", "split")  # absent without training or without labels
