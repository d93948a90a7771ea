"""Test-time symmetry averaging (pick.average_symmetries): the averaged score map turns and mirrors with the
micrograph, it is the mean of the 8 views mapped back, tiles do not change it, and it is off by default."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import yaml

from pickflow.models import ModelConfig
from pickflow.models.modelfile import build_model
from pickflow.picking.scoring import score_image
from pickflow.workflow.config import load_config, pick_params
from tests.workflow.helpers import TINY_CONFIG, merge

CPU = torch.device("cpu")
# (height, width, stride): exact when stride is 1 or each side is 1 + a multiple of the stride (the strided grid
# itself is then symmetric); non-square, so the views come in two batches of 4; and square, one batch of 8
SHAPES = [(70, 90, 1), (71, 93, 2), (81, 81, 2), (73, 65, 4)]


def _model(name: str):
    torch.manual_seed(0)
    model = build_model(ModelConfig(name=name, units=4, depth=2) if name == "unet" else ModelConfig(name=name, units=8))
    g = torch.Generator().manual_seed(1)
    for module in model.modules():  # non-trivial batch-norm statistics, so eval mode is not an identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.copy_(torch.rand(module.running_mean.shape, generator=g) - 0.5)
            module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=g))
    return model.eval()


def _image(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(height * width).normal(size=(height, width)).astype(np.float32)


@pytest.mark.parametrize("name", ["resnet8", "unet"])
@pytest.mark.parametrize(("height", "width", "stride"), SHAPES)
def test_the_averaged_map_turns_and_mirrors_with_the_micrograph(name, height, width, stride):
    model, image = _model(name), _image(height, width)
    averaged = score_image(model, image, CPU, stride, tile=64, average_symmetries=True)
    assert averaged.shape == (-(-height // stride), -(-width // stride))
    for k in (1, 2, 3):
        turned = score_image(model, np.rot90(image, k), CPU, stride, tile=64, average_symmetries=True)
        np.testing.assert_allclose(turned, np.rot90(averaged, k), atol=1e-5)
    for axis in (0, 1):
        mirrored = score_image(model, np.flip(image, axis), CPU, stride, tile=64, average_symmetries=True)
        np.testing.assert_allclose(mirrored, np.flip(averaged, axis), atol=1e-5)
    # the check has teeth: one view does not turn with the micrograph
    plain = score_image(model, image, CPU, stride, tile=64)
    assert not np.allclose(score_image(model, np.rot90(image), CPU, stride, tile=64), np.rot90(plain), atol=1e-3)


@pytest.mark.parametrize("name", ["resnet8", "unet"])
def test_the_average_is_the_mean_of_the_8_views_mapped_back_and_tiles_do_not_change_it(name):
    model, image = _model(name), _image(70, 90)
    views = []
    for mirror in (False, True):
        for k in range(4):
            view = np.rot90(image[:, ::-1] if mirror else image, k)
            back = np.rot90(score_image(model, view, CPU, stride=1), -k)
            views.append(back[:, ::-1] if mirror else back)
    whole = score_image(model, image, CPU, stride=1, tile=1024, average_symmetries=True)
    np.testing.assert_allclose(whole, np.mean(views, axis=0), atol=1e-5)
    tiled = score_image(model, image, CPU, stride=1, tile=64, average_symmetries=True)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_off_by_default(tmp_path):
    assert inspect.signature(score_image).parameters["average_symmetries"].default is False
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(TINY_CONFIG, sort_keys=False))
    config = load_config(path)
    assert config["pick"]["average_symmetries"] is False
    assert pick_params(config)["average_symmetries"] is False
    path.write_text(yaml.safe_dump(merge(TINY_CONFIG, {"pick": {"average_symmetries": True}}), sort_keys=False))
    assert pick_params(load_config(path))["average_symmetries"] is True
    model, image = _model("resnet8"), _image(70, 90)
    default = score_image(model, image, CPU, stride=2)
    np.testing.assert_array_equal(default, score_image(model, image, CPU, stride=2, average_symmetries=False))
    assert not np.allclose(default, score_image(model, image, CPU, stride=2, average_symmetries=True), atol=1e-3)
