"""Matching picks to labels, precision-recall, AP, F1 and the threshold choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pickflow.io.records import ThresholdChoice
from pickflow.picking.evaluation import (
    average_precision,
    implied_precision,
    match_micrograph,
    match_picks,
    pixel_average_precision,
    precision_recall,
    recall_at_count,
    summarize,
)
from pickflow.picking.threshold import choose_threshold


def test_two_picks_one_label_gives_one_match():
    labels = np.array([[50.0, 50.0]])
    picks = np.array([[51.0, 50.0], [50.0, 53.0]])
    # the closer pick scores lower: the higher-scored pick is the match
    matched = match_micrograph(picks, np.array([0.2, 0.9]), labels, radius=5)
    np.testing.assert_array_equal(matched, [False, True])
    matched = match_micrograph(picks, np.array([0.9, 0.2]), labels, radius=5)
    np.testing.assert_array_equal(matched, [True, False])


def test_matching_is_one_to_one_and_maximal():
    # pick 0 (best) could take either label; the assignment must still match both picks
    labels = np.array([[0.0, 0.0], [6.0, 0.0]])
    picks = np.array([[3.0, 0.0], [-2.0, 0.0]])
    matched = match_micrograph(picks, np.array([0.9, 0.1]), labels, radius=3.5)
    np.testing.assert_array_equal(matched, [True, True])
    # three picks, two labels: exactly two matches
    picks3 = np.array([[0.5, 0.0], [5.5, 0.0], [0.0, 0.5]])
    matched3 = match_micrograph(picks3, np.array([0.3, 0.2, 0.8]), labels, radius=2)
    np.testing.assert_array_equal(matched3, [False, True, True])


def test_matching_respects_radius():
    labels = np.array([[10.0, 10.0]])
    assert match_micrograph(np.array([[13.0, 14.0]]), np.array([1.0]), labels, radius=5.0).tolist() == [True]
    assert match_micrograph(np.array([[13.0, 14.1]]), np.array([1.0]), labels, radius=5.0).tolist() == [False]
    assert match_micrograph(np.array([[10.0, 10.0]]), np.array([1.0]), labels, radius=1.0).tolist() == [True]
    empty = match_micrograph(np.zeros((0, 2)), np.zeros(0), labels, radius=5.0)
    assert empty.shape == (0,)
    assert match_micrograph(np.array([[1.0, 1.0]]), np.array([1.0]), np.zeros((0, 2)), 5.0).tolist() == [False]


def test_match_picks_per_micrograph():
    picks = pd.DataFrame(
        {"micrograph": ["a", "b", "a", "c"], "x": [10.0, 10.0, 30.0, 10.0], "y": [10.0] * 4, "score": [1, 2, 3, 4.0]}
    )
    labels = pd.DataFrame({"micrograph": ["a", "b"], "x": [11.0, 30.0], "y": [10.0, 10.0]})
    # label of b is far from b's pick; c has no labels
    np.testing.assert_array_equal(match_picks(picks, labels, 3), [True, False, False, False])


def test_average_precision_hand_computed():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    matched = np.array([True, False, True, False])
    assert average_precision(scores, matched, 3) == pytest.approx((1 + 2 / 3) / 3)
    # order of the input does not matter, only the scores
    perm = [3, 1, 0, 2]
    assert average_precision(scores[perm], matched[perm], 3) == pytest.approx((1 + 2 / 3) / 3)
    assert average_precision(scores, matched, 0) == 0.0
    assert average_precision(np.zeros(0), np.zeros(0, dtype=bool), 3) == 0.0


def test_pixel_average_precision():
    scores = np.array([[0.9, 0.1], [0.8, 0.2]])
    truth = np.array([[True, False], [False, True]])
    # ranking 0.9 (T), 0.8 (F), 0.2 (T), 0.1 (F): (1 + 2/3) / 2
    assert pixel_average_precision(scores, truth) == pytest.approx((1 + 2 / 3) / 2)


def test_precision_recall_rows():
    scores = np.array([0.6, 0.8, 0.9, 0.8])
    matched = np.array([False, True, True, False])
    curve = precision_recall(scores, matched, n_labels=4)
    assert list(curve.columns) == ["threshold", "precision", "recall", "f1", "n_picks"]
    np.testing.assert_allclose(curve["threshold"], [0.9, 0.8, 0.6])  # one row per distinct score
    np.testing.assert_allclose(curve["precision"], [1.0, 2 / 3, 0.5])
    np.testing.assert_allclose(curve["recall"], [0.25, 0.5, 0.5])
    np.testing.assert_array_equal(curve["n_picks"], [1, 3, 4])
    f1 = [2 * p * r / (p + r) for p, r in zip(curve["precision"], curve["recall"], strict=True)]
    np.testing.assert_allclose(curve["f1"], f1)


def test_precision_recall_no_true_picks():
    curve = precision_recall(np.array([0.5, 0.4]), np.array([False, False]), 2)
    np.testing.assert_array_equal(curve["f1"], [0.0, 0.0])


def test_summarize_best_f1():
    labels = pd.DataFrame({"micrograph": ["m"] * 3, "x": [10.0, 50.0, 90.0], "y": [10.0, 10.0, 10.0]})
    picks = pd.DataFrame(
        {
            "micrograph": ["m"] * 5,
            "x": [10.5, 200.0, 50.0, 300.0, 89.0],
            "y": [10.0, 10.0, 11.0, 10.0, 10.0],
            "score": [0.9, 0.8, 0.7, 0.6, 0.5],
        }
    )
    stats, curve = summarize(picks, labels, radius=3)
    # after 0.9: P=1 R=1/3 F1=.5; 0.8: P=.5 R=1/3 F1=.4; 0.7: P=2/3 R=2/3 F1=2/3;
    # 0.6: P=.5 R=2/3 F1=.571; 0.5: P=.6 R=1 F1=.75
    assert stats["best_f1"] == pytest.approx(0.75)
    assert stats["best_f1_threshold"] == pytest.approx(0.5)
    assert stats["best_f1_precision"] == pytest.approx(0.6)
    assert stats["best_f1_recall"] == pytest.approx(1.0)
    assert stats["n_labels"] == 3 and stats["n_picks"] == 5
    assert stats["average_precision"] == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert stats["matching_radius"] == 3.0
    assert len(curve) == 5


def _curve():
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    matched = np.array([True, True, False, True, True, False, True, False])
    return precision_recall(scores, matched, n_labels=6)


def test_threshold_f1_mode():
    curve = _curve()
    out = choose_threshold(curve, pd.DataFrame({"score": []}), 2, {"mode": "f1", "value": 0.0})
    best = curve.loc[curve["f1"].idxmax()]
    assert out.mode == "f1"
    assert out.threshold == pytest.approx(best["threshold"])
    # F1 per threshold: .286 .5 .444 .6 .727 .667 .769 .714 -> best at 0.4 (P=5/7, R=5/6)
    assert out.threshold == pytest.approx(0.4)
    assert "maximizes F1" in out.reason


def test_threshold_recall_mode():
    curve = _curve()
    # recall after each score: 1/6, 2/6, 2/6, 3/6, 4/6, 4/6, 5/6, 5/6
    out = choose_threshold(curve, pd.DataFrame({"score": []}), 2, {"mode": "recall", "recall": 0.6, "value": 0.0})
    assert out.threshold == pytest.approx(0.6)
    assert out.mode == "recall"
    out = choose_threshold(curve, pd.DataFrame({"score": []}), 2, {"mode": "recall", "recall": 0.5, "value": 0.0})
    assert out.threshold == pytest.approx(0.7)
    out = choose_threshold(curve, pd.DataFrame({"score": []}), 2, {"mode": "recall", "recall": 0.99, "value": 0.0})
    assert out.threshold == pytest.approx(0.3)
    assert "never reached" in out.reason


def test_threshold_expected_mode():
    candidates = pd.DataFrame({"score": [0.1, 0.9, 0.5, 0.7, 0.3, 0.8, 0.2, 0.6]})
    params = {"mode": "expected", "expected_particles": 2, "value": 0.0}
    out = choose_threshold(_curve(), candidates, 2, params)
    assert out.mode == "expected"
    assert out.threshold == pytest.approx(0.6)
    assert int((candidates["score"] >= out.threshold).sum()) == 4
    # more wanted than available: the lowest score
    out = choose_threshold(_curve(), candidates, 10, params)
    assert out.threshold == pytest.approx(0.1)


def test_threshold_value_mode():
    out = choose_threshold(_curve(), pd.DataFrame({"score": [0.5]}), 2, {"mode": "value", "value": 0.25})
    assert out == ThresholdChoice(threshold=0.25, mode="value", reason="explicit value from pick.threshold.value")


@pytest.mark.parametrize("mode", ["f1", "recall", "expected"])
def test_threshold_falls_back_without_test_data(mode):
    empty = precision_recall(np.zeros(0), np.zeros(0, dtype=bool), 0)
    params = {"mode": mode, "value": -1.5, "recall": 0.8, "expected_particles": 100}
    out = choose_threshold(empty, pd.DataFrame({"score": []}), 0, params)
    assert out.threshold == -1.5
    assert out.mode == "value"
    assert "pick.threshold.value" in out.reason
    assert "held-out" in out.reason
    assert mode in out.reason


def test_threshold_expected_mode_with_fewer_than_one_wanted_pick():
    candidates = pd.DataFrame({"score": [0.9, 0.5, 0.1]})
    params = {"mode": "expected", "expected_particles": 0.2, "value": 0.0}
    out = choose_threshold(_curve(), candidates, 2, params)  # wants round(0.4) = 0 picks
    # asking for (about) no picks must not keep every candidate
    assert int((candidates["score"] >= out.threshold).sum()) <= 1


def test_recall_at_count_hand_computed():
    scores = np.array([0.2, 0.9, 0.5, 0.7, 0.1])
    matched = np.array([True, True, False, True, True])
    # best first: 0.9 (hit), 0.7 (hit), 0.5 (miss), 0.2 (hit), 0.1 (hit)
    assert recall_at_count(scores, matched, 5, 3) == pytest.approx(2 / 5)
    assert recall_at_count(scores, matched, 5, 10) == pytest.approx(4 / 5)  # fewer candidates than asked
    assert recall_at_count(scores, matched, 0, 3) == 0.0
    assert implied_precision(0.5, particles=200, n_picks=100) == pytest.approx(1.0)
    assert implied_precision(0.5, particles=200, n_picks=0) == 0.0


def test_recall_at_expected_does_not_depend_on_the_label_fraction_but_ap_does():
    """1000 particles, 1000 candidates: 800 true ones (scored high, mixed with 200 false ones) then 200 false
    ones. Against a random 30% of the particles as labels, AP falls with the label fraction; recall at the
    expected count estimates the true recall."""
    rng = np.random.default_rng(0)
    n = 1000
    is_true = np.r_[np.ones(800, bool), np.zeros(200, bool)]
    rng.shuffle(is_true)
    scores = np.r_[rng.uniform(1, 2, n), rng.uniform(0, 1, 200)]
    truth_hits = np.r_[is_true, np.zeros(200, bool)]
    labeled = rng.random(n) < 0.3  # which particles carry a label
    particle_of_candidate = np.full(n + 200, -1)
    particle_of_candidate[np.flatnonzero(truth_hits)] = np.arange(800)
    label_hits = truth_hits & labeled[np.clip(particle_of_candidate, 0, None)]
    n_labels = int(labeled.sum())
    true_recall = recall_at_count(scores, truth_hits, n, n)
    assert true_recall == pytest.approx(0.8)
    assert recall_at_count(scores, label_hits, n_labels, n) == pytest.approx(true_recall, abs=0.05)
    assert average_precision(scores, label_hits, n_labels) < 0.5 * average_precision(scores, truth_hits, n)


def test_summarize_reports_recall_at_expected():
    picks = pd.DataFrame({"micrograph": "a", "x": [0.0, 50.0, 100.0], "y": 0.0, "score": [3.0, 2.0, 1.0]})
    labels = pd.DataFrame({"micrograph": "a", "x": [0.0, 100.0], "y": 0.0})
    stats, _ = summarize(picks, labels, radius=5.0, expected_picks=2)
    assert stats["expected_picks"] == 2 and stats["recall_at_expected"] == pytest.approx(0.5)
    assert "recall_at_expected" not in summarize(picks, labels, radius=5.0)[0]


def test_threshold_expected_mode_needs_no_labels():
    """Without held-out labels (no curve) mode 'expected' counts the picks over the micrographs given."""
    empty = precision_recall(np.zeros(0), np.zeros(0, dtype=bool), 0)
    candidates = pd.DataFrame({"score": [0.1, 0.9, 0.5, 0.7, 0.3, 0.8]})
    params = {"mode": "expected", "expected_particles": 2, "value": -1.5}
    out = choose_threshold(empty, candidates, 2, params, scope="micrograph over all micrographs")
    assert out.mode == "expected" and out.threshold == pytest.approx(0.5)  # the 4th best score
    assert "2 picks per micrograph over all micrographs" in out.reason
