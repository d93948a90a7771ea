"""The segmentation family: U-Net shapes and receptive field, exact tiled scoring, class weights,
patch sampling with label windows, and a short training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pickflow.io.records import Minibatch
from pickflow.models.architecture import ModelConfig, config_errors, unet_receptive_field
from pickflow.models.modelfile import build_model
from pickflow.models.unet import UNet
from pickflow.picking.scoring import score_image
from pickflow.training.loop import train
from pickflow.training.losses import LossConfig, objective, pixel_weights
from pickflow.training.sampling import PatchSampler
from pickflow.workflow.config import train_errors
from tests.unit.test_training import synthetic, tiny_config

CPU = torch.device("cpu")


def _unet(depth: int = 2, units: int = 4) -> UNet:
    torch.manual_seed(0)
    model = UNet(ModelConfig(name="unet", units=units, depth=depth))
    g = torch.Generator().manual_seed(1)
    for module in model.modules():  # non-trivial batch-norm statistics, so eval mode is not an identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.copy_(torch.rand(module.running_mean.shape, generator=g) - 0.5)
            module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=g))
    return model.eval()


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_one_logit_per_pixel_and_widths_double_per_level(depth):
    model = _unet(depth)
    with torch.no_grad():
        out = model(torch.randn(2, 1, 32, 48))
    assert out.shape == (2, 32, 48)
    assert [block[0].out_channels for block in model.down] == [4 * 2**level for level in range(depth)]
    assert model.bottom[0].out_channels == 4 * 2**depth
    assert build_model(ModelConfig(name="unet", units=4, depth=depth)).alignment == 2**depth


@pytest.mark.parametrize(("height", "width", "stride"), [(40, 52, 1), (37, 50, 2), (33, 29, 4)])
def test_score_covers_any_image_size(height, width, stride):
    with torch.no_grad():
        out = _unet().score(torch.randn(1, 1, height, width), stride)
    assert out.shape == (1, -(-height // stride), -(-width // stride))


def test_the_receptive_field_bounds_what_an_output_pixel_sees():
    model = _unet(depth=2)
    image = torch.randn(1, 1, 96, 96, requires_grad=True)
    model(image)[0, 45, 46].backward()
    rows, cols = np.nonzero(image.grad[0, 0].numpy())
    assert rows.max() - rows.min() + 1 <= model.receptive_field == unet_receptive_field(2) == 44
    assert cols.max() - cols.min() + 1 <= model.receptive_field
    assert max(45 - rows.min(), rows.max() - 45, 46 - cols.min(), cols.max() - 46) <= model.margin


@pytest.mark.parametrize("stride", [1, 2])
def test_tiled_scoring_equals_one_pass(stride):
    model = _unet(depth=2)
    image = np.random.default_rng(0).normal(size=(150, 200)).astype(np.float32)
    whole = score_image(model, image, CPU, stride=stride, tile=1024)
    tiled = score_image(model, image, CPU, stride=stride, tile=66)  # rounded down to the pooling grid (64)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    assert whole.shape == (-(-150 // stride), -(-200 // stride))


def test_forbidden_unet_settings():
    assert config_errors(ModelConfig(name="unet", pooling="max"))
    assert config_errors(ModelConfig(name="unet", autoencoder=0.1))
    assert not config_errors(ModelConfig(name="unet", dropout=0.2))
    train = {"model": "unet", "depth": 3, "patch_size": 100, "minibatch_size": 1, **_model_defaults()}
    assert any("multiple of 8" in e for e in train_errors({"train": train}))
    assert not train_errors({"train": {**train, "patch_size": 96}})
    assert any("at least 2 crops" in e for e in train_errors({"train": {**train, "model": "resnet8"}}))


def _model_defaults() -> dict:
    return {"units": 32, "unit_scaling": 2, "dropout": 0.0, "batchnorm": True, "pooling": "none", "autoencoder": 0.0}


@pytest.mark.parametrize("frequency", [0.001, 0.03, 0.5])
def test_class_weights_are_the_inverse_class_frequencies(frequency):
    w_pos, w_neg = pixel_weights(0.5, frequency)
    assert w_pos / w_neg == pytest.approx((1 - frequency) / frequency)  # inverse pixel frequency
    assert w_pos * frequency == pytest.approx(w_neg * (1 - frequency))  # both classes weigh the same in total
    assert frequency * w_pos + (1 - frequency) * w_neg == pytest.approx(1.0)  # mean weight 1


def test_weighted_cross_entropy_on_pixels():
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    logits = torch.tensor([[2.0, -1.0], [0.5, -3.0]])
    mask = torch.tensor([[True, False], [False, False]])
    f = 0.1
    cfg = LossConfig("PN", pi=0.2, p_obs=f, class_weights=True, sampled_fraction=f)
    got = objective(cfg, logits[mask], logits[~mask]).item()
    weights = torch.where(mask, 0.5 / f, 0.5 / (1 - f))
    assert got == pytest.approx((weights * bce(logits, mask.float(), reduction="none")).mean().item(), rel=1e-6)
    plain = LossConfig("PN", pi=f, p_obs=f, class_weights=False, sampled_fraction=f)
    assert objective(plain, logits[mask], logits[~mask]).item() == pytest.approx(bce(logits, mask.float()).item())


def _coded_micrographs() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pixel values that encode (micrograph, y, x), and label masks, so a patch tells where it came from."""
    rng = np.random.default_rng(0)
    shapes = [(70, 90), (40, 30)]  # the second is smaller than a patch
    images = [(m * 10_000 + np.arange(h * w).reshape(h, w)).astype(np.float32) for m, (h, w) in enumerate(shapes)]
    masks = [rng.random(shape) < 0.2 for shape in shapes]
    return images, masks


def test_every_patch_carries_its_own_label_window():
    images, masks = _coded_micrographs()
    sampler = PatchSampler(images, masks, patch=48, minibatch=16)
    patches, labels = sampler.sample(np.random.default_rng(5))
    assert patches.shape == (16, 1, 48, 48) and labels.shape == (16, 48, 48) and labels.dtype == torch.bool
    p, lab = patches[:, 0].numpy(), labels.numpy()
    padded = p == 0  # zero padding of the small micrograph (value 0 is also pixel (0, 0, 0): rare enough)
    code = p.astype(np.int64)
    mic, rest = code // 10_000, code % 10_000
    widths = np.array([s.shape[1] for s in images])[mic]
    ys, xs = rest // widths, rest % widths
    expected = np.array([masks[m][y, x] for m, y, x in zip(mic[~padded], ys[~padded], xs[~padded], strict=True)])
    np.testing.assert_array_equal(lab[~padded], expected)
    assert sampler.positive_fraction == pytest.approx(sum(m.sum() for m in masks) / sum(m.size for m in masks))


def test_patches_are_turned_and_flipped_and_seeded():
    images, masks = _coded_micrographs()
    sampler = PatchSampler(images[:1], masks[:1], patch=32, minibatch=64)
    a, la = sampler.sample(np.random.default_rng(1))
    b, lb = sampler.sample(np.random.default_rng(1))
    assert torch.equal(a, b) and torch.equal(la, lb)
    # orientation: where the patch's value grows fastest (along +x, -x, +y or -y, possibly transposed)
    p = a[:, 0].numpy()
    right, down = p[:, 0, 1] - p[:, 0, 0], p[:, 1, 0] - p[:, 0, 0]
    orientations = {(int(r), int(d)) for r, d in zip(right, down, strict=True)}
    assert len(orientations) == 8  # 4 rotations x 2 flips all occur


def test_a_short_unet_training_learns_and_reports_the_same_metrics():
    torch.set_num_threads(1)
    cfg = tiny_config(
        model={"name": "unet", "units": 4, "depth": 2},
        minibatch_size=None,
        patch_size=48,
        epoch_size=30,
        epochs=2,
        seed=1,
    )
    result = train(cfg, synthetic(0), synthetic(1), CPU)
    model, metrics, summary = result.model, result.metrics, result.summary
    assert isinstance(model, UNet)
    assert summary.loss == "PN" and summary.class_weights is True
    assert summary.minibatch == Minibatch(size=1, unit="48-px patches")
    assert {"loss", "accuracy", "precision", "tpr", "fpr", "auprc", "ap"} <= set(metrics.columns)
    assert sorted(metrics["split"].unique()) == ["test", "train"]
    assert np.isfinite(metrics.drop(columns="split").to_numpy(float)).all()
    assert metrics[metrics["split"] == "test"]["ap"].max() > 0.5
