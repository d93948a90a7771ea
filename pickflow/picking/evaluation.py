"""Scoring picks against labels: one-to-one matching, precision-recall, AP and F1.

Matching (per micrograph): a pick and a label may pair only if their centres are within the
matching radius. Among all such one-to-one pairings the one with the most pairs is taken, and
among those the one whose matched picks score highest (an assignment problem solved with
``scipy.optimize.linear_sum_assignment``). Pooled over micrographs, picks sorted by score
give the precision-recall curve; AP is the sum of precision at each true pick divided by the
number of labels (unmatched labels cap the curve's recall).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import cast

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree  # pyright: ignore[reportAttributeAccessIssue]  (exported; scipy's stubs miss it)


def match_micrograph(picks_xy: np.ndarray, scores: np.ndarray, labels_xy: np.ndarray, radius: float) -> np.ndarray:
    """Boolean array: which picks are matched to a label (one-to-one, within ``radius``)."""
    matched = np.zeros(len(picks_xy), dtype=bool)
    if len(picks_xy) == 0 or len(labels_xy) == 0:
        return matched
    pairs = cKDTree(picks_xy).sparse_distance_matrix(cKDTree(labels_xy), radius, output_type="coo_matrix")
    if pairs.nnz == 0:
        return matched
    rows, row_index = np.unique(pairs.row, return_inverse=True)
    cols, col_index = np.unique(pairs.col, return_inverse=True)
    # Cost: a pair is worth one big unit (count first) minus a small bonus for a better-ranked pick.
    rank = np.empty(len(scores))
    rank[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
    big = float(len(scores) + 1)
    cost = np.zeros((rows.size, cols.size))
    cost[row_index, col_index] = -big + rank[pairs.row] / big
    r, c = linear_sum_assignment(cost)
    real = cost[r, c] < 0
    matched[rows[r[real]]] = True
    return matched


def match_picks(picks: pd.DataFrame, labels: pd.DataFrame, radius: float) -> np.ndarray:
    """``match_micrograph`` over all micrographs of ``picks`` (columns micrograph, x, y, score)."""
    matched = np.zeros(len(picks), dtype=bool)
    label_groups: dict[Hashable, np.ndarray] = {
        k: g[["x", "y"]].to_numpy(float) for k, g in labels.groupby("micrograph")
    }
    xy, scores = picks[["x", "y"]].to_numpy(float), picks["score"].to_numpy(float)
    for key, rows in picks.groupby("micrograph").indices.items():
        truth = label_groups.get(key)
        if truth is not None:
            matched[rows] = match_micrograph(xy[rows], scores[rows], truth, radius)
    return matched


def precision_recall(scores: np.ndarray, matched: np.ndarray, n_labels: int) -> pd.DataFrame:
    """PR curve over score thresholds: one row per distinct score, best first."""
    order = np.argsort(-scores, kind="stable")
    s, tp = scores[order], matched[order].astype(float)
    cum_tp, n = np.cumsum(tp), np.arange(1, len(s) + 1)
    last = np.r_[s[1:] != s[:-1], True] if len(s) else np.zeros(0, dtype=bool)  # end of each tie group
    precision = cum_tp / n
    recall = cum_tp / max(n_labels, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return pd.DataFrame(
        {"threshold": s[last], "precision": precision[last], "recall": recall[last], "f1": f1[last], "n_picks": n[last]}
    )


def average_precision(scores: np.ndarray, matched: np.ndarray, n_labels: int) -> float:
    """Non-interpolated AP: mean over labels of the precision at the pick that found each one."""
    if n_labels == 0 or len(scores) == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp = matched[order].astype(float)
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    return float(np.sum(precision * tp) / n_labels)


def recall_at_count(scores: np.ndarray, matched: np.ndarray, n_labels: int, count: int) -> float:
    """Fraction of the labels found among the ``count`` best-scored picks (ties: the given order).

    With ``count`` = expected particles per micrograph x micrographs and labels that are a random
    subset of the particles, this estimates the true recall at that many picks: unlike precision
    and AP against the labels, it does not depend on the fraction of particles labeled."""
    if n_labels == 0:
        return 0.0
    best = np.argsort(-scores, kind="stable")[: max(count, 0)]
    return float(np.count_nonzero(matched[best]) / n_labels)


def implied_precision(recall: float, particles: float, n_picks: int) -> float:
    """The precision that a recall measured on randomly chosen labels implies: true picks are about
    recall x ``particles`` (the expected number of particles on these micrographs) out of ``n_picks``."""
    return float(recall * particles / n_picks) if n_picks else 0.0


def summarize(
    picks: pd.DataFrame, labels: pd.DataFrame, radius: float, expected_picks: int | None = None
) -> tuple[dict, pd.DataFrame]:
    """AP, best F1 (with its threshold, precision, recall) and the PR curve of picks vs labels; with
    ``expected_picks`` (expected particles on these micrographs) also ``recall_at_expected``."""
    matched = match_picks(picks, labels, radius)
    scores = picks["score"].to_numpy(float)
    curve = precision_recall(scores, matched, len(labels))
    best = cast("pd.Series[float]", curve.loc[cast(int, curve["f1"].idxmax())]) if len(curve) else None
    stats = {
        "n_labels": len(labels),
        "n_picks": len(picks),
        "average_precision": average_precision(scores, matched, len(labels)),
        "best_f1": float(best["f1"]) if best is not None else 0.0,
        "best_f1_threshold": float(best["threshold"]) if best is not None else None,
        "best_f1_precision": float(best["precision"]) if best is not None else 0.0,
        "best_f1_recall": float(best["recall"]) if best is not None else 0.0,
        "matching_radius": float(radius),
    }
    if expected_picks is not None:
        stats["expected_picks"] = int(expected_picks)
        stats["recall_at_expected"] = recall_at_count(scores, matched, len(labels), expected_picks)
    return stats, curve


def pixel_average_precision(scores: np.ndarray, truth: np.ndarray) -> float:
    """AP over pixels (Topaz's 'auprc'): ``truth`` is the boolean label disk mask."""
    return average_precision(scores.ravel(), truth.ravel(), int(np.count_nonzero(truth)))
