"""Plots of a run: training curves, held-out precision-recall, picks per micrograph, overlays.

By hand:
    python scripts/plots.py --metrics results/train/metrics.csv --summary results/train/summary.json \
        --threshold results/pick/threshold.json --curve results/pick/pr_curve.csv \
        --picks results/picks/particles.csv --pick-summary results/picks/summary.json \
        --labels results/labels/labels.csv --split results/split/split.json --preprocessed results/preprocessed \
        --outdir results/plots
"""

import json
from pathlib import Path

import pandas as pd

from pickflow import plots
from pickflow.cli import config_parser, entry
from pickflow.coordinates import read_table
from pickflow.micrographs import read_micrograph


def _json(path: str) -> dict:
    return json.loads(Path(path).read_text())


def run(inputs: dict, outputs: dict, preprocessed: str) -> None:
    summary = _json(inputs["summary"])
    plots.training_curves(pd.read_csv(inputs["metrics"]), summary["best_epoch"], outputs["training"])
    threshold = _json(inputs["threshold"])
    plots.precision_recall(pd.read_csv(inputs["curve"]), threshold, outputs["precision_recall"])
    pick_summary = _json(inputs["pick_summary"])
    unusual = pick_summary["unusual_pick_counts"]
    plots.picks_per_micrograph(
        pick_summary["picks_per_micrograph"], outputs["picks_per_micrograph"], (unusual["low"], unusual["high"])
    )
    scores = pd.concat([read_table(c)["score"] for c in inputs["candidates"]]).to_numpy(float)
    plots.score_histogram(scores, threshold["threshold"], outputs["score_histogram"])
    picks, labels, split = read_table(inputs["picks"]), read_table(inputs["labels"]), _json(inputs["split"])
    labeled = set(labels["micrograph"])
    unseen = [m for m in sorted(pick_summary["picks_per_micrograph"]) if m not in labeled]
    panels = []
    for name in split["test"][:1] + split["train"][:1] + unseen[:1]:
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
    plots.overlays(panels, summary["config"]["particle_radius"], outputs["overlays"])


def parser():
    p = config_parser(__doc__)
    for name in (
        "metrics",
        "summary",
        "threshold",
        "curve",
        "picks",
        "pick-summary",
        "labels",
        "split",
        "preprocessed",
        "outdir",
    ):
        p.add_argument(f"--{name}", required=True)
    return p


def _from_args(a) -> dict:
    out = Path(a.outdir)
    inputs = {k: getattr(a, k) for k in ("metrics", "summary", "threshold", "curve", "picks", "labels", "split")}
    inputs["pick_summary"], inputs["candidates"] = a.pick_summary, a.candidates
    outputs = {
        k: out / f"{k}.png"
        for k in ("training", "precision_recall", "picks_per_micrograph", "score_histogram", "overlays")
    }
    return {"inputs": inputs, "outputs": outputs, "preprocessed": a.preprocessed}


if __name__ == "__main__":
    entry(
        run,
        parser(),
        _from_args,
        globals().get("snakemake"),
        lambda s: {
            "inputs": dict(s.input.items()),
            "outputs": dict(s.output.items()),
            "preprocessed": s.params.preprocessed,
        },
    )
