"""Class prior from disk counts, and the PU objectives (PN, GE-binomial, GE-KL, nnPU)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from pickflow.errors import InputError
from pickflow.training.losses import (
    DEFAULT_SLACK,
    LOSSES,
    LossConfig,
    ge_binomial_loss,
    ge_kl_loss,
    nn_pu_loss,
    objective,
    pn_loss,
)
from pickflow.training.prior import class_prior, largest_expected, observed_prior, pixels_in_disk
from pickflow.workflow.config import check_prior, validate
from tests.workflow.helpers import TINY_CONFIG, merge


def _config(**train) -> dict:
    return validate(
        merge(TINY_CONFIG, {"micrographs": {"pixel_size": 1.0}, "preprocess": {"downsample": 8}, "train": train})
    )


def test_a_class_prior_of_one_or_more_is_caught_at_parse_time(real_mrc):
    # 927 x 959 pixels downsampled 8x: 115 x 119 = 13685 pixels, 29 per particle at radius 3
    limit = largest_expected(3, 1, 115 * 119)
    assert limit == pytest.approx(13685 / 29)
    check_prior(_config(expected_particles=limit - 1), [real_mrc])
    with pytest.raises(InputError) as caught:
        check_prior(_config(expected_particles=500), [real_mrc])
    message = str(caught.value)
    assert "train.expected_particles=500 with train.label_radius=3 gives a class prior pi=1.06" in message
    assert "preprocess.downsample/target_pixel_size" in message and f"below {limit:.4g}" in message
    with pytest.raises(InputError, match=r"train\.label_radius=30 gives a class prior pi=\d"):
        check_prior(_config(expected_particles=10, label_radius=30), [real_mrc])


def test_the_prior_check_covers_cross_validated_values(real_mrc):
    config = _config(expected_particles=100)
    config["cv"].update(enabled=True, parameter="expected_particles", values=[100, 600])
    with pytest.raises(InputError, match=r"train\.expected_particles=600 .*pi=1\.27") as caught:
        check_prior(config, [real_mrc])
    assert "expected_particles=100 " not in str(caught.value)


@pytest.mark.parametrize(("radius", "count"), [(0, 1), (1, 5), (2, 13), (3, 29), (4, 49), (5, 81), (1.5, 9)])
def test_pixels_in_disk(radius, count):
    assert pixels_in_disk(radius) == count


def test_topaz_walkthrough_prior():
    total_pixels = 4_435_200
    assert observed_prior(1000, 3, total_pixels) == pytest.approx(0.00654, abs=5e-5)
    assert round(observed_prior(1000, 3, total_pixels), 4) == 0.0065
    assert class_prior(300, 3, 20, total_pixels) == pytest.approx(0.03923, abs=5e-5)
    assert round(class_prior(300, 3, 20, total_pixels), 4) == 0.0392
    assert class_prior(300, 3, 20, total_pixels) == pytest.approx(29 * 300 * 20 / total_pixels)


def _logits(n, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, generator=g) * 2).requires_grad_(True)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


@pytest.mark.parametrize("name", LOSSES)
def test_losses_finite_with_finite_gradients(name):
    cfg = LossConfig(name=name, pi=0.05, p_obs=0.01)
    pos, unl = _logits(8, 0), _logits(56, 1)
    loss = objective(cfg, pos, unl)
    assert loss.dim() == 0
    assert torch.isfinite(loss)
    loss.backward()
    assert pos.grad is not None and unl.grad is not None
    assert torch.isfinite(pos.grad).all() and torch.isfinite(unl.grad).all()
    assert unl.grad.abs().sum() > 0


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss 'XE'"):
        objective(LossConfig(name="XE", pi=0.1, p_obs=0.0), _logits(2, 0), _logits(2, 1))


def test_effective_slack_defaults():
    assert LossConfig("GE-binomial", 0.1, 0.01).effective_slack == 1.0
    assert LossConfig("GE-KL", 0.1, 0.01).effective_slack == 10.0
    assert LossConfig("GE-KL", 0.1, 0.01, slack=-1).effective_slack == 10.0
    assert LossConfig("PU", 0.1, 0.01).effective_slack == 1.0
    assert LossConfig("GE-KL", 0.1, 0.01, slack=2.5).effective_slack == 2.5
    assert LossConfig("GE-binomial", 0.1, 0.01, slack=0).effective_slack == 0.0
    assert DEFAULT_SLACK == {"GE-binomial": 1.0, "GE-KL": 10.0}


def _constant(n, p):
    return torch.full((n,), _logit(p))


def test_ge_kl_term_zero_at_target_and_larger_away():
    target = 0.08
    empty = torch.empty(0)
    at = ge_kl_loss(empty, _constant(40, target), target, slack=1.0)
    assert at.item() == pytest.approx(0.0, abs=1e-5)
    for p in (0.02, 0.05, 0.12, 0.3):
        assert ge_kl_loss(empty, _constant(40, p), target, slack=1.0).item() > at.item() + 1e-4
    # value is the Bernoulli KL(target || p)
    p = 0.3
    kl = target * math.log(target / p) + (1 - target) * math.log((1 - target) / (1 - p))
    assert ge_kl_loss(empty, _constant(40, p), target, slack=1.0).item() == pytest.approx(kl, rel=1e-4)


def test_ge_kl_objective_minimal_at_pi_minus_p_obs():
    cfg = LossConfig("GE-KL", pi=0.1, p_obs=0.02)
    pos = torch.full((4,), 3.0)
    grid = [0.02, 0.04, 0.06, 0.07, 0.08, 0.09, 0.1, 0.12, 0.2]
    values = [objective(cfg, pos, _constant(32, p)).item() for p in grid]
    assert grid[values.index(min(values))] == pytest.approx(0.08)
    # the minimum over unlabeled is exactly the positive BCE term (KL = 0)
    assert min(values) == pytest.approx(F.binary_cross_entropy_with_logits(pos, torch.ones(4)).item(), abs=1e-4)
    # gradient with respect to the unlabeled logits vanishes at the target
    unl = _constant(32, 0.08).requires_grad_(True)
    objective(cfg, pos, unl).backward()
    assert unl.grad.abs().max().item() < 1e-4


def test_ge_binomial_penalty_lower_near_target():
    target = 0.1
    empty = torch.empty(0)
    near = ge_binomial_loss(empty, _constant(100, target), target, slack=1.0).item()
    far_high = ge_binomial_loss(empty, _constant(100, 0.5), target, slack=1.0).item()
    far_low = ge_binomial_loss(empty, _constant(100, 0.01), target, slack=1.0).item()
    assert near < far_high
    assert near < far_low
    # slack scales only the penalty
    pos = torch.full((3,), 1.0)
    base = F.binary_cross_entropy_with_logits(pos, torch.ones(3)).item()
    one = ge_binomial_loss(pos, _constant(100, 0.5), target, slack=1.0).item()
    three = ge_binomial_loss(pos, _constant(100, 0.5), target, slack=3.0).item()
    assert three - base == pytest.approx(3 * (one - base), rel=1e-4)


def test_nn_pu_returns_negated_negative_risk():
    pi = 0.5
    pos = torch.full((6,), 5.0)  # confident positives: BCE against 0 is large
    unl = torch.full((10,), -5.0)  # confident negatives: BCE against 0 is small
    risk = F.binary_cross_entropy_with_logits(unl, torch.zeros(10)) - pi * F.binary_cross_entropy_with_logits(
        pos, torch.zeros(6)
    )
    assert risk.item() < 0
    loss = nn_pu_loss(pos, unl, pi)
    assert loss.item() == pytest.approx(-risk.item(), rel=1e-6)
    assert loss.item() > 0


def test_nn_pu_regular_branch():
    pi = 0.1
    pos = torch.tensor([0.5, -0.2, 1.0])
    unl = torch.tensor([0.3, 0.1, -0.4, 0.8])
    bce = F.binary_cross_entropy_with_logits
    risk_u = bce(unl, torch.zeros(4)) - pi * bce(pos, torch.zeros(3))
    assert risk_u.item() >= 0
    expected = pi * bce(pos, torch.ones(3)) + risk_u
    assert nn_pu_loss(pos, unl, pi).item() == pytest.approx(expected.item(), rel=1e-6)


def test_pn_class_weights():
    bce = F.binary_cross_entropy_with_logits
    pos = torch.tensor([0.3, -1.0])
    unl = torch.tensor([2.0, 0.5, -0.5])
    pos_term, unl_term = bce(pos, torch.ones(2)).item(), bce(unl, torch.zeros(3)).item()
    weighted = objective(LossConfig("PN", pi=0.1, p_obs=0.0, class_weights=True), pos, unl).item()
    assert weighted == pytest.approx(0.5 * pos_term + 0.5 * unl_term, rel=1e-6)
    plain = pn_loss(pos, unl, 0.1, class_weights=False).item()
    assert plain == pytest.approx(0.1 * pos_term + 0.9 * unl_term, rel=1e-6)
