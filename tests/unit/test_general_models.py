"""The general pretrained models: the resolver, ``train.init`` (general, scratch or a model file) with its
checks, the preprocessing scale a general model fixes, and the proof that starting from the general model
beats starting from scratch at a tiny budget on simulated micrographs it never saw."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from pickflow.errors import InputError, TrainingError
from pickflow.io.records import ModelInit
from pickflow.models import ModelConfig
from pickflow.models.general import (
    GENERAL_DIR,
    available_families,
    file_sha256,
    general_model_info,
    general_model_path,
)
from pickflow.models.modelfile import build_model, load_model, save_model
from pickflow.preprocess.image import preprocess_image
from pickflow.report.diagnostics import diagnose
from pickflow.simulate import SimulationConfig, select_labels, simulate_micrograph
from pickflow.training.loop import Dataset, TrainConfig, train
from pickflow.workflow.config import (
    init_choice,
    preprocess_params,
    preprocessed_pixel_size,
    train_params,
    validate,
)
from tests.unit.test_training import synthetic, tiny_config

CPU = torch.device("cpu")
BASE = {
    "micrographs": {"path": "mics/*.mrc", "pixel_size": 1.0},
    "particle_diameter": 200.0,
    "labels": {"coordinates": "labels.star"},
    "train": {"expected_particles": 100},
}


def config(**sections) -> dict:
    """A validated config: BASE with ``sections`` merged into its sections."""
    raw = copy.deepcopy(BASE)
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return validate(raw)


# --- the resolver -------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["resnet8", "unet"])
def test_general_models_ship_with_their_metadata(family):
    path = general_model_path(family)
    info = general_model_info(family)
    assert path == GENERAL_DIR / f"{family}.pt" and path.is_file()
    # float16 weights: resnet8 (358k parameters) 0.73 MB; the unet at its default width (1.93M parameters) 3.9 MB
    assert path.stat().st_size == info["bytes"] < {"resnet8": 1_000_000, "unet": 4_000_000}[family]
    assert info["sha256"] == file_sha256(path)
    assert info["particle_pixels"] == 24 and info["normalize"] == "gmm"
    model, payload = load_model(path, CPU)
    assert model.config == ModelConfig(**info["model_config"]) and model.config.name == family
    assert payload["general"]["particle_pixels"] == info["particle_pixels"]  # the file records its scale too
    assert set(available_families()) >= {"resnet8", "unet"}


def test_no_general_model_for_a_family_is_an_error_naming_the_keys():
    with pytest.raises(InputError, match=r"train\.init: no general model ships for train\.model 'resnet16'"):
        general_model_path("resnet16")
    with pytest.raises(InputError, match=r"train\.init: no general model ships for train\.model 'resnet16'"):
        validate({**BASE, "train": {"expected_particles": 100, "model": "resnet16", "init": "general"}})


def test_init_defaults_to_general_where_one_ships_else_scratch():
    assert init_choice(config()) == "general"
    assert init_choice(config(train={"model": "unet"})) == "general"
    assert init_choice(config(train={"model": "resnet16"})) == "scratch"
    assert train_params(config(train={"model": "resnet16"}))["init"] == "scratch"
    params = train_params(config())
    assert params["init"] == "general" and params["init_sha256"] == file_sha256(general_model_path("resnet8"))
    assert train_params(config(train={"init": "scratch"}))["init_sha256"] is None


# --- the preprocessing scale --------------------------------------------------------------------------


def test_general_start_fixes_the_scale_and_overrides_downsample():
    cfg = config(preprocess={"downsample": 2})
    assert preprocessed_pixel_size(cfg) == pytest.approx(200.0 / 24)
    assert preprocess_params(cfg)["target_pixel_size"] == pytest.approx(200.0 / 24)
    scratch = config(preprocess={"downsample": 2}, train={"init": "scratch"})
    assert preprocessed_pixel_size(scratch) == 2.0 and preprocess_params(scratch)["target_pixel_size"] is None
    explicit = config(preprocess={"particle_pixels": 40}, train={"init": "scratch"})
    assert preprocessed_pixel_size(explicit) == pytest.approx(5.0)


def test_picking_with_the_general_model_preprocesses_at_its_scale():
    """No labels, no training: the general model picks, so the micrographs go to its scale whatever
    train.init says (it starts no training here)."""
    nolabel = {
        "labels": {"coordinates": None},
        "train": {"init": "scratch"},
        "pick": {"threshold": {"mode": "expected"}},
    }
    assert preprocessed_pixel_size(config(**nolabel, preprocess={"downsample": 2})) == pytest.approx(200.0 / 24)
    with pytest.raises(InputError, match=r"preprocess\.normalize: affine contradicts pick\.model: general"):
        config(**nolabel, preprocess={"normalize": "affine"})


@pytest.mark.parametrize(
    ("preprocess", "message"),
    [
        ({"particle_pixels": 40}, r"preprocess\.particle_pixels: 40 contradicts train\.init: general"),
        ({"target_pixel_size": 4.0}, r"preprocess\.target_pixel_size: 4\.0 contradicts train\.init: general"),
        ({"normalize": "affine"}, r"preprocess\.normalize: affine contradicts train\.init: general"),
    ],
)
def test_settings_contradicting_the_general_scale_are_parse_time_errors(preprocess, message):
    with pytest.raises(InputError, match=message):
        config(preprocess=preprocess)
    config(preprocess=preprocess, train={"init": "scratch"})  # fine without the general model


def test_a_scale_that_would_upsample_is_an_error():
    with pytest.raises(InputError, match=r"preprocess\.particle_pixels: 24 pixels per 20 Å particle"):
        validate({**BASE, "particle_diameter": 20.0})
    with pytest.raises(InputError, match="both set the scale"):
        config(preprocess={"particle_pixels": 30, "target_pixel_size": 5.0}, train={"init": "scratch"})


# --- a model file of an earlier run --------------------------------------------------------------------


def earlier_model(tmp_path, **settings) -> str:
    path = tmp_path / "model.pt"
    save_model(path, build_model(ModelConfig(**settings)), {"train_summary": {"best_epoch": 1}})
    return str(path)


def test_init_from_an_earlier_model_file(tmp_path):
    path = earlier_model(tmp_path, name="resnet8", units=16)
    cfg = config(train={"init": path, "units": 16})
    params = train_params(cfg)
    assert params["init"] == path and params["init_sha256"] == file_sha256(path)
    assert preprocessed_pixel_size(cfg) == 1.0  # the scale stays the user's


def test_init_file_of_another_family_or_architecture_names_the_settings(tmp_path):
    path = earlier_model(tmp_path, name="resnet8", units=16)
    with pytest.raises(InputError, match=r"train\.init: .*model.pt was trained with other architecture settings"):
        config(train={"init": path, "model": "unet", "units": 16})
    with pytest.raises(InputError, match=r"train\.units: 16 vs 32"):
        config(train={"init": path})
    with pytest.raises(InputError, match=r"train\.init: model file .*missing.pt not found"):
        config(train={"init": str(tmp_path / "missing.pt")})
    with pytest.raises(InputError, match=r"train\.units: 32 vs 64"):
        config(train={"units": 64})  # the general model's architecture is fixed too


def test_training_starts_from_the_init_weights_and_records_them(tmp_path):
    model_cfg = {"name": "conv31", "units": 8}
    path = earlier_model(tmp_path, **model_cfg)
    start = load_model(path, CPU)[0].state_dict()
    cfg = tiny_config(init=path, init_sha256=file_sha256(path), learning_rate=1e-12, epochs=1)
    result = train(cfg, synthetic(0), synthetic(1), CPU)
    model, summary = result.model, result.summary
    for name, value in model.named_parameters():
        assert torch.allclose(value, start[name], atol=1e-6), name
    assert summary.init == ModelInit(init=path, path=path, sha256=file_sha256(path))
    assert cfg.fingerprint() != tiny_config(learning_rate=1e-12, epochs=1).fingerprint()
    json.dumps(summary.to_json())  # goes into summary.json as it is
    with pytest.raises(TrainingError, match=r"train\.init"):
        train(tiny_config(init=path, model={"name": "conv31", "units": 4}), synthetic(0), synthetic(1), CPU)


def test_the_start_is_evaluated_as_epoch_0_and_kept_when_no_epoch_beats_it(tmp_path, caplog):
    path = earlier_model(tmp_path, name="conv31", units=8)
    start = load_model(path, CPU)[0].state_dict()
    cfg = tiny_config(init=path, init_sha256=file_sha256(path), learning_rate=1e-12, epochs=2)
    result = train(cfg, synthetic(0), synthetic(1), CPU)
    assert list(result.metrics.loc[result.metrics["split"] == "test", "epoch"]) == [0, 1, 2]
    assert result.summary.best_epoch == 0  # a tie with the start goes to the start
    for name, value in result.model.named_parameters():
        assert torch.equal(value, start[name]), name
    assert "no epoch beat the starting model" in caplog.text
    findings = diagnose(result.metrics, result.summary, 10.0, None)
    assert [f["id"] for f in findings if f["id"] in ("start_kept", "underfitting")] == ["start_kept"]
    scratch = train(tiny_config(epochs=1), synthetic(0), synthetic(1), CPU)
    assert scratch.metrics["epoch"].min() == 1  # random weights are not worth an evaluation


# --- general beats scratch -----------------------------------------------------------------------------


def heldout(seed: int) -> tuple[Dataset, Dataset]:
    """Three simulated micrographs the general models never saw (their own seed), at the general scale:
    two for training with 40% of their particles labeled, one scored against every particle."""
    sim = SimulationConfig(
        image_size=640, pixel_size=2.0, particle_radius=55.0, particles_per_micrograph=45, snr=0.03,
        junk_per_micrograph=8, contamination_count=1.0, seed=seed,
    )  # fmt: skip
    params = {"pixel_size": 2.0, "target_pixel_size": 110.0 / 24, "normalize": "gmm", "seed": 0, "lowpass": None}
    images, labels, truth = [], [], []
    for i in range(3):
        image, particles, _ = simulate_micrograph(sim, i)
        small, meta = preprocess_image(image, f"m{i}", params)
        scale = np.array(meta["scale"])
        chosen = select_labels(particles, 0.4, 1.0, np.random.default_rng(i), sim.image_size)
        images.append(small)
        truth.append(particles[["y", "x"]].to_numpy() / scale)
        labels.append(chosen[["y", "x"]].to_numpy() / scale)
    return Dataset(["m0", "m1"], images[:2], labels[:2]), Dataset(["m2"], images[2:], truth[2:])


@pytest.mark.parametrize("family", ["resnet8", "unet"])
def test_general_start_beats_scratch_at_a_tiny_budget(family):
    torch.set_num_threads(1)
    train_set, test_set = heldout(seed=777)
    budget = {"minibatch_size": 32 if family == "resnet8" else 1, "epoch_size": 8, "epochs": 1}
    ap = {}
    for init in ("general", "scratch"):
        cfg = TrainConfig(
            model=ModelConfig(name=family),
            expected_particles=45,
            particle_radius=12.0,
            eval_stride=1,
            init=init,
            seed=0,
            **budget,
        )
        metrics = train(cfg, train_set, test_set, CPU).metrics
        ap[init] = float(metrics.loc[metrics["split"] == "test", "ap"].iloc[-1])  # after training; every particle
    assert ap["general"] >= ap["scratch"] + 0.3, ap
