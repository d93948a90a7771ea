"""Evaluate the candidates on the held-out test micrographs and choose the picking threshold.

Writes the threshold with its reason and the held-out statistics (AP, best F1, precision and
recall at the threshold) as JSON, and the precision-recall curve as CSV."""

from __future__ import annotations

import pandas as pd

from ..io.atomic import atomic_path
from ..io.coordinates import read_table
from ..io.records import AtThreshold, HeldOut, Split, Threshold
from ..picking.evaluation import implied_precision, summarize
from ..picking.threshold import choose_threshold

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
        return Split.read(split).test
    return sorted(labels["micrograph"].unique())


def choose_picking_threshold(
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
        stats, curve = None, pd.DataFrame(columns=["threshold", "precision", "recall", "f1", "n_picks"])
        scores = pd.concat([read_table(c)[["score"]] for c in candidates], ignore_index=True)
        choice = choose_threshold(
            curve, scores, len(micrographs), params, scope="micrograph over all micrographs (no held-out labels)"
        )
    Threshold(
        threshold=choice.threshold,
        mode=choice.mode,
        reason=choice.reason,
        test_micrographs=test,
        held_out=HeldOut(**stats) if stats is not None else None,
        at_threshold=point_at(curve, choice.threshold, params["expected_particles"] * len(test)),
        note=PARTIAL_LABELS_NOTE if test else NO_LABELS_NOTE,
    ).write(output)
    with atomic_path(curve_output) as tmp:
        curve.to_csv(tmp, index=False)


def point_at(curve: pd.DataFrame, threshold: float, expected: float) -> AtThreshold | None:
    """The curve's point at ``threshold`` (its lowest threshold at or above it), with the precision its recall
    implies for ``expected`` particles; None on an empty curve or below every candidate."""
    at = curve[curve["threshold"] >= threshold]
    if not len(at):
        return None
    row = at.iloc[-1]
    n_picks = int(row["n_picks"])
    return AtThreshold(
        threshold=float(row["threshold"]),
        precision=float(row["precision"]),
        recall=float(row["recall"]),
        f1=float(row["f1"]),
        n_picks=n_picks,
        implied_precision=implied_precision(float(row["recall"]), expected, n_picks),
    )
