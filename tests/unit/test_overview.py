"""Flagging micrographs with unusually few or many picks, and choosing the micrographs of the overview."""

from __future__ import annotations

from pickflow.picking.overview import overview_micrographs, unusual_pick_counts


def test_counts_far_from_the_median_are_flagged_by_the_robust_spread():
    counts = {f"m{i:02d}": n for i, n in enumerate([100, 104, 96, 98, 102, 101, 99, 103, 97, 100])}
    counts |= {"empty": 0, "crowded": 400, "low_but_usual": 92}
    unusual = unusual_pick_counts(counts)
    assert unusual["median"] == 100
    assert unusual["few"] == ["empty"] and unusual["many"] == ["crowded"]
    assert unusual["low"] < 92 < unusual["high"] < 400


def test_identical_counts_flag_nothing_one_pick_away():
    unusual = unusual_pick_counts({"a": 5, "b": 5, "c": 5, "d": 6, "e": 4})
    assert unusual["few"] == [] and unusual["many"] == [] and unusual["robust_sd"] == 1.0


def test_the_overview_shows_flagged_micrographs_first_then_a_spread_of_the_rest():
    counts = {f"m{i:03d}": 50 for i in range(200)} | {"m150": 0, "m007": 500}
    unusual = unusual_pick_counts(counts)
    shown = overview_micrographs(counts, unusual, limit=10)
    assert shown[:2] == ["m150", "m007"] and len(shown) == len(set(shown)) == 10
    assert shown[2] == "m000" and shown[-1] > "m150"  # spread over the whole run, not its first names
    assert overview_micrographs({"a": 1, "b": 2}, unusual_pick_counts({"a": 1, "b": 2}), limit=48) == ["a", "b"]
