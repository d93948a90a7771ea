"""Evaluate the candidates on the held-out test micrographs and choose the picking threshold.

Writes the threshold with its reason and the held-out statistics (AP, best F1, precision and
recall at the threshold) as JSON, and the precision-recall curve as CSV. By hand:
    python scripts/threshold.py OUT.json OUT_curve.csv --candidates results/pick/candidates/*.csv \
        [--labels results/labels/labels.csv] [--split results/split/split.json] [--config config.yaml]
Without --split every labeled micrograph is held out (a run that picks with a given model).
"""

import json
from pathlib import Path

import pandas as pd

from pickflow.atomic import atomic_path, write_json
from pickflow.cli import config_parser, entry, optional_input
from pickflow.config import load_config, threshold_params
from pickflow.coordinates import read_table
from pickflow.evaluation import implied_precision, summarize
from pickflow.threshold import choose_threshold

PARTIAL_LABELS_NOTE = (
    "Precision and AP are measured against the labels, which are usually partial: picks on unlabeled particles "
    "count as false positives, so the true precision and AP are higher than reported. Recall does not depend on how "
    "many particles were labeled (when the labeled ones are a random choice): recall_at_expected is the fraction of "
    "the held-out labels among the expected_particles x micrographs best candidates, and implied_precision = recall "
    "x expected particles / picks estimates the true precision."
)
NO_LABELS_NOTE = "No held-out labels: the picks are not evaluated."


def held_out_micrographs(split: str | None, labels: pd.DataFrame) -> list[str]:
    """The test micrographs of the split; without training (no split) every labeled micrograph."""
    if split:
        return json.loads(Path(split).read_text())["test"]
    return sorted(labels["micrograph"].unique())


def run(
    candidates: list[str],
    labels: str | None,
    split: str | None,
    micrographs: list[str],
    output: str,
    curve_output: str,
    params: dict,
) -> None:
    truth = read_table(labels) if labels else pd.DataFrame(columns=["micrograph", "x", "y"])
    test = held_out_micrographs(split, truth)
    truth = truth[truth["micrograph"].isin(test)]
    if test:
        # One batch at a time, keeping only the test micrographs: memory does not grow with the dataset.
        held_out = pd.concat([t[t["micrograph"].isin(test)] for t in map(read_table, candidates)], ignore_index=True)
        stats, curve = summarize(
            held_out, truth, params["matching_radius"], round(params["expected_particles"] * len(test))
        )
        choice = choose_threshold(curve, held_out, len(test), params)
    else:
        # No held-out labels: mode 'expected' counts the picks over every micrograph.
        stats, curve = {}, pd.DataFrame(columns=["threshold", "precision", "recall", "f1", "n_picks"])
        scores = pd.concat([read_table(c)[["score"]] for c in candidates], ignore_index=True)
        choice = choose_threshold(
            curve, scores, len(micrographs), params, scope="micrograph over all micrographs (no held-out labels)"
        )
    at = curve[curve["threshold"] >= choice["threshold"]]
    at_threshold = at.iloc[-1].to_dict() if len(at) else {}
    if at_threshold:
        at_threshold["implied_precision"] = implied_precision(
            at_threshold["recall"], params["expected_particles"] * len(test), int(at_threshold["n_picks"])
        )
    write_json(
        output,
        {
            **choice,
            "test_micrographs": test,
            "held_out": stats,
            "at_threshold": at_threshold,
            "note": PARTIAL_LABELS_NOTE if test else NO_LABELS_NOTE,
        },
    )
    with atomic_path(curve_output) as tmp:
        curve.to_csv(tmp, index=False)


def parser():
    p = config_parser(__doc__)
    p.add_argument("output")
    p.add_argument("curve_output")
    p.add_argument("--candidates", nargs="+", required=True)
    p.add_argument("--labels", help="labels.csv; without it the picks are not evaluated")
    p.add_argument("--split", help="split.json; without it every labeled micrograph is held out")
    return p


if __name__ == "__main__":
    entry(
        run,
        parser(),
        lambda a: {
            "candidates": a.candidates,
            "labels": a.labels,
            "split": a.split,
            "micrographs": sorted({m for c in a.candidates for m in read_table(c)["micrograph"]}),
            "output": a.output,
            "curve_output": a.curve_output,
            "params": threshold_params(load_config(a.config)),
        },
        globals().get("snakemake"),
        lambda s: {
            "candidates": list(s.input.candidates),
            "labels": optional_input(s.input.labels),
            "split": optional_input(s.input.split),
            "micrographs": list(s.params.micrographs),
            "output": s.output.threshold,
            "curve_output": s.output.curve,
            "params": s.params.threshold,
        },
    )
