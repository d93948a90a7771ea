"""Which micrographs got unusually few or many picks, and which micrographs the overview figure shows."""

from __future__ import annotations

import numpy as np

MAD_TO_SD = 1.4826  # the median absolute deviation times this estimates the standard deviation of normal data


def unusual_pick_counts(counts: dict[str, int], spread: float = 3.0) -> dict:
    """Micrographs whose pick count is more than ``spread`` robust standard deviations from the median.

    The robust standard deviation is 1.4826 x the median absolute deviation, at least 1 pick, so that a data set
    where nearly every micrograph has the same count does not flag a micrograph one pick away.
    """
    values = np.array(list(counts.values()), dtype=float)
    median = float(np.median(values)) if len(values) else 0.0
    sd = max(MAD_TO_SD * float(np.median(np.abs(values - median))), 1.0) if len(values) else 1.0
    low, high = median - spread * sd, median + spread * sd
    return {
        "median": median,
        "robust_sd": sd,
        "low": low,
        "high": high,
        "few": sorted((name for name, n in counts.items() if n < low), key=lambda name: (counts[name], name)),
        "many": sorted((name for name, n in counts.items() if n > high), key=lambda name: (-counts[name], name)),
    }


def overview_micrographs(counts: dict[str, int], unusual: dict, limit: int = 48) -> list[str]:
    """Up to ``limit`` micrographs for the overview: every flagged one first (as many as fit), then others spread
    evenly over the sorted names."""
    flagged = [*unusual["few"], *unusual["many"]][:limit]
    others = [name for name in sorted(counts) if name not in set(flagged)]
    room = limit - len(flagged)
    if room <= 0 or not others:
        return flagged
    step = len(others) / min(room, len(others))
    return flagged + [others[int(i * step)] for i in range(min(room, len(others)))]
