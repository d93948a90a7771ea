"""Plots of a run: training curves, held-out precision-recall, picks per micrograph, overlays.

By hand:
    python scripts/plots.py --metrics results/train/metrics.csv --summary results/train/summary.json \
        --threshold results/pick/threshold.json --curve results/pick/pr_curve.csv \
        --picks results/picks/particles.csv --pick-summary results/picks/summary.json \
        --labels results/labels/labels.csv --split results/split/split.json --preprocessed results/preprocessed \
        --candidates results/pick/candidates/*.csv --outdir results/plots
Without training (pick.model not 'trained') leave out --metrics, --summary and --split; without labels also
--labels: the training and precision-recall figures then say why they are empty.
"""

import json
from pathlib import Path

import pandas as pd

from pickflow import plots
from pickflow.cli import config_parser, entry, optional_input
from pickflow.coordinates import read_table
from pickflow.micrographs import read_micrograph


def _json(path: str) -> dict:
    return json.loads(Path(path).read_text())


def run(inputs: dict, outputs: dict, preprocessed: str, picking_model: str, particle_radius: float) -> None:
    if inputs["summary"]:
        summary = _json(inputs["summary"])
        plots.training_curves(pd.read_csv(inputs["metrics"]), summary["best_epoch"], outputs["training"])
    else:
        plots.placeholder(f"No training in this run: picked with {picking_model}", outputs["training"])
    threshold = _json(inputs["threshold"])
    if threshold["test_micrographs"]:
        plots.precision_recall(pd.read_csv(inputs["curve"]), threshold, outputs["precision_recall"])
    else:
        plots.placeholder("No labels: the picks are not evaluated", outputs["precision_recall"])
    pick_summary = _json(inputs["pick_summary"])
    unusual = pick_summary["unusual_pick_counts"]
    plots.picks_per_micrograph(
        pick_summary["picks_per_micrograph"], outputs["picks_per_micrograph"], (unusual["low"], unusual["high"])
    )
    scores = pd.concat([read_table(c)["score"] for c in inputs["candidates"]]).to_numpy(float)
    plots.score_histogram(scores, threshold["threshold"], outputs["score_histogram"])
    picks = read_table(inputs["picks"])
    labels = read_table(inputs["labels"]) if inputs["labels"] else None
    split = _json(inputs["split"]) if inputs["split"] else {"test": threshold["test_micrographs"], "train": []}
    labeled = set(labels["micrograph"]) if labels is not None else set()
    unseen = [m for m in sorted(pick_summary["picks_per_micrograph"]) if m not in labeled]
    panels = []
    for name in (split["test"][:1] + split["train"][:1] + unseen)[:3]:
        meta = _json(str(Path(preprocessed) / f"{name}.json"))
        panels.append(
            {
                "name": name,
                "image": read_micrograph(Path(preprocessed) / f"{name}.mrc"),
                "scale": meta["scale"],
                "picks": picks[picks["micrograph"] == name],
                "labels": labels[labels["micrograph"] == name] if name in labeled else None,
            }
        )
    plots.overlays(panels, particle_radius, outputs["overlays"])


OPTIONAL_INPUTS = ("metrics", "summary", "labels", "split")  # absent without training or without labels


def parser():
    p = config_parser(__doc__)
    for name in ("threshold", "curve", "picks", "pick-summary", "preprocessed", "outdir"):
        p.add_argument(f"--{name}", required=True)
    for name in OPTIONAL_INPUTS:
        p.add_argument(f"--{name}")
    p.add_argument("--candidates", nargs="+", required=True)
    return p


def _from_args(a) -> dict:
    from pickflow.config import load_config, particle_radius_px, picking_model_label

    config = load_config(a.config)
    out = Path(a.outdir)
    inputs = {k: getattr(a, k) for k in ("threshold", "curve", "picks", "candidates", *OPTIONAL_INPUTS)}
    inputs["pick_summary"] = a.pick_summary
    outputs = {
        k: out / f"{k}.png"
        for k in ("training", "precision_recall", "picks_per_micrograph", "score_histogram", "overlays")
    }
    return {
        "inputs": inputs,
        "outputs": outputs,
        "preprocessed": a.preprocessed,
        "picking_model": picking_model_label(config),
        "particle_radius": particle_radius_px(config),
    }


def _from_job(s) -> dict:
    inputs = dict(s.input.items())
    inputs.update({k: optional_input(inputs[k]) for k in OPTIONAL_INPUTS})
    return {
        "inputs": inputs,
        "outputs": dict(s.output.items()),
        "preprocessed": s.params.preprocessed,
        "picking_model": s.params.picking_model,
        "particle_radius": s.params.particle_radius,
    }


if __name__ == "__main__":
    entry(run, parser(), _from_args, globals().get("snakemake"), _from_job)
