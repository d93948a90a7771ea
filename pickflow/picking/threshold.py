"""Choosing the score threshold for the final picks, from the held-out test micrographs."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from ..io.records import ThresholdChoice


def choose_threshold(
    curve: pd.DataFrame, candidates: pd.DataFrame, n_micrographs: int, params: dict, scope: str = "test micrograph"
) -> ThresholdChoice:
    """Threshold and the reason for it.

    ``curve`` is the held-out precision-recall curve (empty without test labels), ``candidates``
    the held-out candidates, ``n_micrographs`` how many micrographs they come from. Mode
    ``expected`` needs no labels: without test micrographs the caller passes every candidate
    and ``scope`` says which micrographs they are.
    """
    mode = params["mode"]
    value = float(params["value"])
    if mode == "value":
        return ThresholdChoice(value, "value", "explicit value from pick.threshold.value")
    if n_micrographs == 0 or (curve.empty and mode != "expected"):
        return ThresholdChoice(
            value,
            "value",
            f"mode '{mode}' needs held-out labeled micrographs; none available, so pick.threshold.value is used",
        )
    if mode == "f1":
        best = cast("pd.Series[float]", curve.loc[cast(int, curve["f1"].idxmax())])
        return ThresholdChoice(
            float(best["threshold"]),
            mode,
            f"maximizes F1 on the test micrographs (F1 {best['f1']:.3f}, precision {best['precision']:.3f}, recall {best['recall']:.3f})",
        )
    if mode == "recall":
        target = float(params["recall"])
        reached = curve[curve["recall"] >= target]
        if reached.empty:
            best = curve.iloc[-1]
            return ThresholdChoice(
                float(best["threshold"]),
                mode,
                f"recall {target:.2f} is never reached on the test micrographs (max {best['recall']:.3f}); the lowest candidate score is used",
            )
        best = reached.iloc[0]
        return ThresholdChoice(
            float(best["threshold"]),
            mode,
            f"highest threshold reaching recall {target:.2f} on the test micrographs (precision {best['precision']:.3f})",
        )
    # expected: as many picks per micrograph as the expected number of particles
    wanted = max(1, int(round(float(params["expected_particles"]) * n_micrographs)))
    scores = np.sort(candidates["score"].to_numpy(float))[::-1]
    if scores.size == 0:
        return ThresholdChoice(value, "value", "no candidates on the test micrographs; pick.threshold.value is used")
    return ThresholdChoice(
        float(scores[min(wanted, scores.size) - 1]),
        mode,
        f"gives about {params['expected_particles']} picks per {scope}, from train.expected_particles",
    )
