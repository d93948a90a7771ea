"""Evaluate the candidates on the held-out test micrographs and choose the picking threshold.

Writes the threshold with its reason and the held-out statistics (AP, best F1, precision and
recall at the threshold) as JSON, and the precision-recall curve as CSV. By hand:
    python scripts/threshold.py OUT.json OUT_curve.csv --candidates results/pick/candidates/*.csv \
        --labels results/labels/labels.csv --split results/split/split.json [--config config.yaml]
"""

import json
from pathlib import Path

import pandas as pd

from pickflow.atomic import atomic_path, write_json
from pickflow.cli import config_parser, entry
from pickflow.config import load_config, threshold_params
from pickflow.coordinates import read_table
from pickflow.evaluation import summarize
from pickflow.threshold import choose_threshold

PARTIAL_LABELS_NOTE = (
    "Precision is measured against the labels, which are usually partial: picks on unlabeled particles count as false "
    "positives, so the true precision is higher than reported."
)


def run(candidates: list[str], labels: str, split: str, output: str, curve_output: str, params: dict) -> None:
    test = json.loads(Path(split).read_text())["test"]
    # One batch at a time, keeping only the test micrographs: memory does not grow with the dataset.
    held_out = pd.concat([t[t["micrograph"].isin(test)] for t in map(read_table, candidates)], ignore_index=True)
    truth = read_table(labels)
    truth = truth[truth["micrograph"].isin(test)]
    if test:
        stats, curve = summarize(held_out, truth, params["matching_radius"])
    else:
        stats, curve = {}, pd.DataFrame(columns=["threshold", "precision", "recall", "f1", "n_picks"])
    choice = choose_threshold(curve, held_out, len(test), params)
    at = curve[curve["threshold"] >= choice["threshold"]]
    at_threshold = at.iloc[-1].to_dict() if len(at) else {}
    write_json(
        output,
        {
            **choice,
            "test_micrographs": test,
            "held_out": stats,
            "at_threshold": at_threshold,
            "note": PARTIAL_LABELS_NOTE,
        },
    )
    with atomic_path(curve_output) as tmp:
        curve.to_csv(tmp, index=False)


def parser():
    p = config_parser(__doc__)
    p.add_argument("output")
    p.add_argument("curve_output")
    p.add_argument("--candidates", nargs="+", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--split", required=True)
    return p


if __name__ == "__main__":
    entry(
        run,
        parser(),
        lambda a: {
            "candidates": a.candidates,
            "labels": a.labels,
            "split": a.split,
            "output": a.output,
            "curve_output": a.curve_output,
            "params": threshold_params(load_config(a.config)),
        },
        globals().get("snakemake"),
        lambda s: {
            "candidates": list(s.input.candidates),
            "labels": s.input.labels,
            "split": s.input.split,
            "output": s.output.threshold,
            "curve_output": s.output.curve,
            "params": s.params.threshold,
        },
    )
