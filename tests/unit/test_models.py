"""Picker architectures: receptive fields, forbidden configurations, dense scoring == crop mode."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pickflow.errors import InputError
from pickflow.models import MODELS, ModelConfig, config_errors
from pickflow.models.modelfile import load_model, save_model
from pickflow.models.topaz import Picker, _crop

CPU = torch.device("cpu")


def _picker(name, **kwargs):
    torch.manual_seed(0)
    model = Picker(ModelConfig(name=name, units=kwargs.pop("units", 4), **kwargs))
    # non-trivial batch-norm statistics so eval mode is not an identity
    g = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.copy_(torch.rand(module.running_mean.shape, generator=g) - 0.5)
            module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=g))
    return model.eval()


@pytest.mark.parametrize(
    ("name", "size"), [("resnet8", 71), ("resnet16", 91), ("conv31", 31), ("conv63", 63), ("conv127", 127)]
)
def test_receptive_fields(name, size):
    model = Picker(ModelConfig(name=name, units=2))
    assert model.receptive_field == size
    with torch.no_grad():
        out = model.eval()(torch.zeros(3, 1, size, size))
    assert out.shape == (3,)  # one logit per receptive-field crop


@pytest.mark.parametrize(
    ("cfg", "key", "phrase"),
    [
        (ModelConfig(name="resnet8", pooling="avg"), "train.pooling", "average pooling is not available for ResNet"),
        (ModelConfig(name="resnet16", autoencoder=0.1), "train.autoencoder", "needs a conv model"),
        (ModelConfig(name="conv31", pooling="max"), "train.pooling", "max pooling is not available for conv"),
        (ModelConfig(name="conv63", dropout=0.2), "train.dropout", "dropout is not available for conv"),
        (ModelConfig(name="resnet99"), "train.model", "unknown model 'resnet99'"),
    ],
)
def test_forbidden_combinations(cfg, key, phrase):
    errors = config_errors(cfg)
    assert len(errors) == 1
    assert errors[0].startswith(key)
    assert phrase in errors[0]
    with pytest.raises(ValueError, match=phrase):
        Picker(cfg)


def test_all_errors_reported_together():
    errors = config_errors(ModelConfig(name="conv31", pooling="max", dropout=0.5))
    assert len(errors) == 2
    with pytest.raises(ValueError) as err:
        Picker(ModelConfig(name="conv31", pooling="max", dropout=0.5))
    assert "max pooling" in str(err.value) and "dropout" in str(err.value)


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(),
        ModelConfig(name="resnet8", pooling="max", dropout=0.1),
        ModelConfig(name="conv31", pooling="avg", autoencoder=0.5),
        ModelConfig(name="conv127"),
    ],
)
def test_allowed_combinations(cfg):
    assert config_errors(cfg) == []


@pytest.mark.parametrize("name", ["resnet8", "conv31"])
def test_dense_score_equals_crop_mode(name):
    model = _picker(name)
    rf = model.receptive_field
    half = rf // 2
    g = torch.Generator().manual_seed(2)
    image = torch.randn(1, 1, 21, 18, generator=g)
    padded = F.pad(image, (half, half, half, half))
    points = [(0, 0), (4, 9), (10, 10), (20, 17), (13, 2)]
    with torch.no_grad():
        dense = model.score(image)
        crops = torch.cat([padded[:, :, y : y + rf, x : x + rf] for y, x in points])
        crop_logits = model(crops)
    assert dense.shape == (1, 21, 18)
    for (y, x), logit in zip(points, crop_logits, strict=True):
        assert dense[0, y, x].item() == pytest.approx(logit.item(), abs=1e-4)
    # the scores are not trivially constant
    assert dense.std().item() > 1e-3


@pytest.mark.parametrize("name", ["resnet8", "conv31"])
def test_strided_score_is_subsampled_dense_score(name):
    model = _picker(name)
    g = torch.Generator().manual_seed(3)
    image = torch.randn(2, 1, 19, 22, generator=g)
    with torch.no_grad():
        dense = model.score(image)
        strided = model.score(image, stride=2)
    assert strided.shape == (2, 10, 11)
    torch.testing.assert_close(strided, dense[:, ::2, ::2], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("start", "step", "shape"), [(0, 1, (11, 9)), (3, 1, (5, 3)), (3, 2, (4, 3)), (0, 2, (6, 5))])
def test_crop_equals_slicing_and_keeps_channels_last_gradients(start, step, shape):
    # Training runs channels-last; a gradient coming back in the standard layout (as slicing's
    # does) makes every later op of the backward pass convert layouts.
    cl = torch.channels_last
    x = torch.randn(2, 3, 11, 9).contiguous(memory_format=cl).requires_grad_(True)
    out = _crop(x, start, step, torch.Size(shape))
    assert torch.equal(out, x[:, :, start::step, start::step][:, :, : shape[0], : shape[1]])
    assert out.is_contiguous(memory_format=cl)
    (grad,) = torch.autograd.grad(out, x, torch.ones_like(out))  # a channels-last incoming gradient
    assert grad.is_contiguous(memory_format=cl)
    assert grad.sum().item() == shape[0] * shape[1] * 6


@pytest.mark.parametrize(("height", "width"), [(16, 16), (15, 23), (1, 7)])
def test_score_keeps_input_size(height, width):
    model = _picker("conv31")
    with torch.no_grad():
        out = model.score(torch.randn(3, 1, height, width))
    assert out.shape == (3, height, width)


def test_decoder_only_with_autoencoder():
    assert Picker(ModelConfig(name="conv31", units=2)).decoder is None
    model = Picker(ModelConfig(name="conv31", units=2, autoencoder=1.0)).eval()
    with torch.no_grad():
        z = model.embed(torch.randn(2, 1, 31, 31))
        recon = model.decoder(z)
    assert recon.shape == (2, 1, 31, 31)


def test_receptive_field_table_matches_the_built_networks():
    from pickflow.models.architecture import RECEPTIVE_FIELDS, SEGMENTATION, architecture_receptive_field

    for (name, pooling), expected in RECEPTIVE_FIELDS.items():
        cfg = ModelConfig(name=name, pooling=pooling)
        assert Picker(cfg).receptive_field == expected == architecture_receptive_field(cfg)
    allowed = {
        (n, p)
        for n in MODELS
        for p in ("none", "max", "avg")
        if n not in SEGMENTATION and not config_errors(ModelConfig(name=n, pooling=p))
    }
    assert allowed == set(RECEPTIVE_FIELDS)


def test_saved_model_loads_with_weights_only_even_with_numpy_metadata(tmp_path):
    model = Picker(ModelConfig(name="conv31", units=8))
    extra = {"train_summary": {"pi": np.float64(0.1), "rows": [{"ap": np.float32(0.5)}], "path": tmp_path}}
    save_model(tmp_path / "model.pt", model, extra)
    raw = torch.load(tmp_path / "model.pt", weights_only=True)  # what pickflow promises for its files
    assert raw["train_summary"] == {"pi": 0.1, "rows": [{"ap": 0.5}], "path": str(tmp_path)}
    loaded, _ = load_model(tmp_path / "model.pt", CPU)
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name]), name


def test_a_model_file_that_carries_code_is_refused_without_running_it(tmp_path, code_payload):
    payload, marker = code_payload
    path = tmp_path / "model.pt"
    torch.save({"model_config": {"name": "conv31"}, "state_dict": {}, "train_summary": payload}, path)
    with pytest.raises(InputError, match=r"model\.pt: refused to load: the file holds Python objects .*posix\.system"):
        load_model(path, CPU)
    assert not marker.exists()


@pytest.mark.parametrize("cut", [0, 10, 0.5])
def test_a_truncated_model_file_names_the_file_and_the_fix(tmp_path, cut):
    path = tmp_path / "model.pt"
    save_model(path, Picker(ModelConfig(name="conv31", units=8)), {})
    data = path.read_bytes()
    path.write_bytes(data[: int(cut * len(data)) if isinstance(cut, float) else cut])
    with pytest.raises(InputError, match=r"model\.pt: not a readable model file .*truncated or corrupt.*train again"):
        load_model(path, CPU)


def test_a_garbage_model_file_names_the_file(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"not a model " * 100)
    with pytest.raises(InputError, match=r"model\.pt: not a readable model file"):
        load_model(path, CPU)


def test_a_full_disk_while_saving_a_model_names_it_and_leaves_nothing(tmp_path, monkeypatch):
    def full_disk(payload, path):
        Path(path).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError, match=r"no space left on the disk while writing .*model\.pt: free space"):
        save_model(tmp_path / "model.pt", Picker(ModelConfig(name="conv31", units=8)), {})
    assert list(tmp_path.iterdir()) == []
