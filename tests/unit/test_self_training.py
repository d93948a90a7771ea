"""Self-training rounds (train.self_training_*): pseudo-labels from the kept model, guarded by the held-out labels."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pickflow.training.loop import Dataset, train
from pickflow.training.pseudo import far_from, pseudo_label_count, pseudo_labels
from tests.unit.test_training import CPU, TIMING, synthetic, tiny_config


def half_labeled(seed: int) -> tuple[Dataset, list[np.ndarray]]:
    """The synthetic micrographs with every other particle's label removed, and the removed particles."""
    full = synthetic(seed, particles=16)
    kept = [c[::2] for c in full.centres]
    return Dataset(full.names, full.images, kept), [c[1::2] for c in full.centres]


def test_pseudo_label_count_is_the_fraction_of_the_particles_a_micrograph_lacks():
    assert pseudo_label_count(100, 40, 0.5) == 30
    assert pseudo_label_count(100, 120, 0.5) == 0  # more labels than expected: none
    assert pseudo_label_count(10, 3, 1.0) == 7


def test_far_from_masks_points_within_the_radius_of_a_label():
    labels = np.array([[10.0, 10.0]])
    points = np.array([[10.0, 13.0], [10.0, 20.0]])
    assert far_from(points, labels, 4.0).tolist() == [False, True]
    assert far_from(points, np.empty((0, 2)), 4.0).tolist() == [True, True]


def test_pseudo_labels_find_the_unlabeled_particles_and_never_sit_on_a_label():
    torch.set_num_threads(1)
    data, removed = half_labeled(0)
    model = train(tiny_config(epochs=4, epoch_size=25), data, None, CPU).model
    counts = [5, 5]
    added = pseudo_labels(model, data.images, data.centres, counts, 4.0, 1, -6.0, CPU)
    assert [len(a) for a in added] == counts
    for yx, labels, missing in zip(added, data.centres, removed, strict=True):
        assert far_from(yx, labels, 4.0).all()
        on_a_particle = ~far_from(yx, missing, 4.0)
        assert on_a_particle.mean() >= 0.8, f"only {on_a_particle.sum()} of {len(yx)} pseudo-labels on a particle"


def test_rounds_train_more_epochs_record_their_pseudo_labels_and_keep_the_best_epoch_over_all():
    torch.set_num_threads(1)
    train_data, _ = half_labeled(0)
    cfg = tiny_config(epochs=2, self_training_rounds=2, self_training_epochs=2, expected_particles=16)
    result = train(cfg, train_data, synthetic(1), CPU)
    assert sorted(result.metrics["epoch"].unique()) == [1, 2, 3, 4, 5, 6]
    assert len(result.summary.pseudo_labels) == 2
    assert all(n == 8 for n in result.summary.pseudo_labels)  # (16 expected - 8 labeled) x 0.5 x 2 micrographs
    test = result.metrics[result.metrics["split"] == "test"]
    assert result.summary.best_epoch == int(test.loc[test["ap"].idxmax(), "epoch"])


def test_no_rounds_trains_exactly_as_before():
    torch.set_num_threads(1)
    plain = train(tiny_config(), synthetic(0), synthetic(1), CPU)
    explicit = train(tiny_config(self_training_rounds=0, self_training_epochs=7), synthetic(0), synthetic(1), CPU)
    assert plain.summary.pseudo_labels == []
    pd.testing.assert_frame_equal(plain.metrics.drop(columns=TIMING), explicit.metrics.drop(columns=TIMING))


SETTINGS = dict(epochs=2, epoch_size=25, self_training_rounds=1, self_training_epochs=3, expected_particles=16)


def test_a_run_killed_inside_a_round_resumes_with_the_same_pseudo_labels_and_metrics(tmp_path):
    cfg = tiny_config(**SETTINGS)
    torch.set_num_threads(1)
    uninterrupted = train(cfg, half_labeled(0)[0], synthetic(1), CPU)
    resume = tmp_path / "resume.pt"
    script = textwrap.dedent(
        f"""
        import torch
        from pathlib import Path
        from tests.unit.test_self_training import half_labeled
        from tests.unit.test_training import CPU, synthetic, tiny_config
        from pickflow.training.loop import train
        torch.set_num_threads(1)
        train(tiny_config(**{SETTINGS!r}), half_labeled(0)[0], synthetic(1), CPU, Path({str(resume)!r}))
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2])
    deadline, saved = time.time() + 120, 0
    while saved < 3 and time.time() < deadline and process.poll() is None:  # epoch 3 is the round's first
        if resume.exists():
            try:
                saved = torch.load(resume, weights_only=True)["epoch"]
            except (RuntimeError, EOFError):  # caught while being replaced
                pass
        time.sleep(0.01)
    process.kill()
    process.wait()
    saved = torch.load(resume, weights_only=True)
    assert 3 <= saved["epoch"] < 5, "the training process was not stopped inside the round"
    assert saved["pseudo"] is not None
    resumed = train(cfg, half_labeled(0)[0], synthetic(1), CPU, resume)
    pd.testing.assert_frame_equal(uninterrupted.metrics.drop(columns=TIMING), resumed.metrics.drop(columns=TIMING))
    assert resumed.summary.pseudo_labels == uninterrupted.summary.pseudo_labels
