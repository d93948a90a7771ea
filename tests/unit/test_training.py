"""The training loop on small synthetic micrographs: seeding, resume after a kill, best-epoch
selection, the PN fallback and early failures."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from pickflow.errors import InputError, TrainingError
from pickflow.io.records import TrainSummary
from pickflow.models.device import native_bf16
from pickflow.training.loop import Dataset, TrainConfig, select_best_epoch, train

CPU = torch.device("cpu")
TIMING = ["train_seconds", "eval_seconds"]


def synthetic(seed: int, n: int = 2, size: int = 96, particles: int = 12) -> Dataset:
    """Dark Gaussian blobs on noise; every particle labeled."""
    rng = np.random.default_rng(seed)
    images, centres = [], []
    yy, xx = np.mgrid[:size, :size]
    for _ in range(n):
        yx = rng.uniform(8, size - 8, size=(particles, 2))
        image = rng.normal(0, 1, (size, size))
        for y, x in yx:
            image -= 2.5 * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 3.0**2))
        images.append(image.astype(np.float32))
        centres.append(yx)
    return Dataset([f"m{seed}_{i}" for i in range(n)], images, centres)


def tiny_config(**overrides) -> TrainConfig:
    values = dict(
        model={"name": "conv31", "units": 8},
        expected_particles=20,
        minibatch_size=16,
        positive_fraction=0.25,
        epoch_size=4,
        epochs=3,
        learning_rate=0.01,
        particle_radius=4.0,
        eval_stride=1,
        seed=3,
    )
    values.update(overrides)
    return TrainConfig.from_dict(values)


def run(cfg: TrainConfig, resume: Path | None = None) -> tuple[pd.DataFrame, TrainSummary, torch.nn.Module]:
    torch.set_num_threads(1)
    result = train(cfg, synthetic(0), synthetic(1), CPU, resume)
    return result.metrics, result.summary, result.model


def test_same_seed_same_metrics_other_seed_differs():
    a, _, _ = run(tiny_config())
    b, _, _ = run(tiny_config())
    c, _, _ = run(tiny_config(seed=4))
    pd.testing.assert_frame_equal(a.drop(columns=TIMING), b.drop(columns=TIMING))
    assert not np.allclose(a["objective"], c["objective"])


def test_precision_is_recorded_and_bf16_trains_like_fp32():
    fp32, summary32, _ = run(tiny_config(precision="fp32", epochs=2))
    bf16, summary16, _ = run(tiny_config(precision="bf16", epochs=2))
    _, auto, _ = run(tiny_config(epochs=1))
    assert (summary32.precision, summary16.precision) == ("fp32", "bf16")
    assert auto.precision == ("bf16" if native_bf16(CPU) else "fp32")
    # bfloat16 rounds the activations (8-bit mantissa): the objectives stay close, not equal
    np.testing.assert_allclose(bf16["objective"], fp32["objective"], rtol=0.1)
    assert not np.array_equal(bf16["objective"], fp32["objective"])


def test_compiled_training_matches_eager():
    eager, _, _ = run(tiny_config(precision="fp32", epochs=1))
    compiled, _, _ = run(tiny_config(precision="fp32", epochs=1, compile=True))
    np.testing.assert_allclose(compiled["objective"], eager["objective"], rtol=1e-3)
    np.testing.assert_allclose(compiled["ap"], eager["ap"], atol=1e-3)


def test_metrics_have_one_row_per_epoch_and_split():
    metrics, summary, _ = run(tiny_config())
    assert list(metrics.groupby("epoch")["split"].apply(list)) == [["train", "test"]] * 3
    for column in ("loss", "accuracy", "precision", "adjusted_precision", "tpr", "fpr", "auprc", "ap"):
        assert metrics[column].between(0, np.inf).all(), column
    assert metrics["recall_at_expected"].between(0, 1).all()
    assert summary.best_epoch == select_best_epoch(metrics, "ap")


def test_recall_at_expected_can_select_the_epoch():
    metrics, summary, _ = run(tiny_config(selection_metric="recall_at_expected"))
    assert summary.selection_metric == "recall_at_expected"
    assert summary.best_epoch == select_best_epoch(metrics, "recall_at_expected")


def test_returned_model_holds_the_weights_of_the_best_epoch():
    cfg = tiny_config(epochs=4, selection_metric="loss")
    _, summary, model = run(cfg)
    # Epoch seeds do not depend on the number of epochs (constant learning rate), so training for
    # exactly best_epoch epochs ends with the weights the longer run kept.
    _, _, short = run(tiny_config(epochs=summary.best_epoch, selection_metric="loss"))
    for name, value in model.state_dict().items():
        assert torch.equal(value, short.state_dict()[name]), name


def test_select_best_epoch_ties_and_direction():
    table = pd.DataFrame(
        {
            "epoch": [1, 1, 2, 2, 3, 3, 4, 4],
            "split": ["train", "test"] * 4,
            "ap": [0.9, 0.5, 0.9, 0.7, 0.95, 0.7, 0.99, 0.6],
            "loss": [1.0, 0.8, 1.0, 0.6, 1.0, 0.6, 1.0, 0.9],
        }
    )
    assert select_best_epoch(table, "ap") == 2  # tie between epochs 2 and 3: the earlier; train rows ignored
    assert select_best_epoch(table, "loss") == 2  # lower is better for the loss
    assert select_best_epoch(table[table["split"] == "train"], "ap") == 4  # no test rows: last epoch


def test_resume_after_a_kill_finishes_with_the_same_metrics(tmp_path):
    cfg = tiny_config(epochs=4, epoch_size=25)
    uninterrupted, _, _ = run(cfg)
    resume = tmp_path / "resume.pt"
    # A separate process trains with a resume file and is killed (SIGKILL) once epoch 1 is saved.
    script = textwrap.dedent(
        f"""
        import torch
        from tests.unit.test_training import run, tiny_config
        run(tiny_config(epochs=4, epoch_size=25), __import__("pathlib").Path({str(resume)!r}))
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2])
    deadline = time.time() + 120
    while not resume.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.kill()
    process.wait()
    saved = torch.load(resume, weights_only=True)["epoch"]
    assert saved < 4, "the training process finished before it could be interrupted"
    resumed, _, _ = run(cfg, resume)
    pd.testing.assert_frame_equal(uninterrupted.drop(columns=TIMING), resumed.drop(columns=TIMING))


def test_resume_state_from_another_configuration_is_ignored(tmp_path):
    resume = tmp_path / "resume.pt"
    run(tiny_config(epochs=1), resume)
    metrics, _, _ = run(tiny_config(epochs=2), resume)
    assert list(metrics["epoch"].unique()) == [1, 2]


def _relabel(train_data: Dataset, eval_data: Dataset) -> tuple[Dataset, Dataset]:
    train_data.centres[0] = train_data.centres[0][:-1]  # one label removed
    return train_data, eval_data


def _new_pixels(train_data: Dataset, eval_data: Dataset) -> tuple[Dataset, Dataset]:
    eval_data.images[1] = eval_data.images[1][::-1].copy()  # a held-out micrograph replaced
    return train_data, eval_data


def _other_split(train_data: Dataset, eval_data: Dataset) -> tuple[Dataset, Dataset]:
    return eval_data, train_data


@pytest.mark.parametrize(
    ("change", "reason"), [(_relabel, "labels"), (_new_pixels, "micrographs"), (_other_split, "split, micrographs")]
)
def test_resume_state_from_other_inputs_is_ignored(tmp_path, caplog, change, reason):
    cfg, resume = tiny_config(epochs=2), tmp_path / "resume.pt"
    train(cfg, synthetic(0), synthetic(1), CPU, resume)  # leaves the state after epoch 2 (as a killed job would)
    changed = change(synthetic(0), synthetic(1))
    with caplog.at_level(logging.INFO, logger="pickflow.training.loop"):
        metrics = train(cfg, *changed, CPU, resume).metrics
    assert f"written for other training inputs ({reason}" in caplog.text
    assert "resuming" not in caplog.text
    fresh = train(cfg, *change(synthetic(0), synthetic(1)), CPU).metrics
    pd.testing.assert_frame_equal(metrics.drop(columns=TIMING), fresh.drop(columns=TIMING))


def test_resume_state_from_the_same_inputs_is_used(tmp_path, caplog):
    cfg, resume = tiny_config(epochs=2), tmp_path / "resume.pt"
    first = train(cfg, synthetic(0), synthetic(1), CPU, resume).metrics
    with caplog.at_level(logging.INFO, logger="pickflow.training.loop"):
        again = train(cfg, synthetic(0), synthetic(1), CPU, resume).metrics
    assert "after epoch 2" in caplog.text
    pd.testing.assert_frame_equal(first, again)  # nothing retrained: the same rows, timings included


def test_a_resume_file_that_carries_code_is_refused_without_running_it(tmp_path, code_payload):
    payload, marker = code_payload
    resume = tmp_path / "resume.pt"
    torch.save({"fingerprint": {}, "rows": payload}, resume)
    with pytest.raises(InputError, match=r"resume\.pt: refused to load"):
        run(tiny_config(), resume)
    assert not marker.exists()


def test_expected_particles_below_labels_falls_back_to_pn_loudly(caplog):
    with caplog.at_level(logging.WARNING):
        _, summary, _ = run(tiny_config(expected_particles=2, epochs=1))
    assert summary.loss_fell_back_to_pn is True and summary.loss == "PN"
    assert "falls back to PN" in caplog.text


def test_a_class_prior_of_one_or_more_stops_before_training():
    # 2 micrographs of 96 x 96 pixels hold 18432 pixels: 320 particles of 29 pixels each fill them
    with pytest.raises(TrainingError, match=r"class prior pi=1\.01 >= 1: train\.expected_particles \(320"):
        run(tiny_config(expected_particles=320))


def test_nan_loss_stops_with_underfitting_hint():
    with pytest.raises(TrainingError, match="learning rate too high"):
        run(
            tiny_config(
                learning_rate=1e12, epochs=2, epoch_size=20, model={"name": "conv31", "units": 8, "batchnorm": False}
            )
        )


def test_no_labels_and_unlabeled_test_set_are_errors():
    empty = Dataset(["a"], [np.zeros((32, 32), np.float32)], [np.empty((0, 2))])
    with pytest.raises(TrainingError, match="no labeled particle"):
        train(tiny_config(), empty, None, CPU)
    with pytest.raises(TrainingError, match="held-out micrographs carry no labels"):
        train(tiny_config(), synthetic(0), empty, CPU)
