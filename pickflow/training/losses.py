"""Positive-unlabeled objectives (Topaz's PN, GE-KL, GE-binomial and non-negative PU).

Each takes the logits of the labeled-positive crops and of the unlabeled crops of one
minibatch and returns a scalar to minimise. ``pi`` is the full class prior; the GE losses
aim the unlabeled positive fraction at ``pi - p_obs``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..schema import allowed

LOSSES = tuple(name for name in allowed("train.loss") if name != "auto")  # the schema owns the names
DEFAULT_SLACK = {"GE-binomial": 1.0, "GE-KL": 10.0}


@dataclass(frozen=True)
class LossConfig:
    name: str
    pi: float
    p_obs: float
    slack: float = -1.0
    class_weights: bool = False
    sampled_fraction: float | None = None  # PN: how often the sampler yields a positive (None: per minibatch)

    @property
    def effective_slack(self) -> float:
        return DEFAULT_SLACK.get(self.name, 1.0) if self.slack < 0 else self.slack


def _bce(logits: Tensor, target: float) -> Tensor:
    if logits.numel() == 0:
        return logits.sum()
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def pixel_weights(share: float, sampled_fraction: float) -> tuple[float, float]:
    """Per-sample weights (positive, unlabeled) that give the positives ``share`` of the expected
    total weight when they make up ``sampled_fraction`` of the samples; the mean weight is 1.
    ``share`` 0.5 is "use class weights": each class weighted by the inverse of its frequency."""
    return share / sampled_fraction, (1 - share) / (1 - sampled_fraction)


def pn_loss(pos: Tensor, unl: Tensor, pi: float, class_weights: bool, sampled_fraction: float | None = None) -> Tensor:
    """Positive-negative: binary cross-entropy with the unlabeled treated as negative. The positives
    get half of the weight with class weights, else ``pi``; ``sampled_fraction`` is how often the
    sampler yields a positive (None: this minibatch's own fraction, i.e. a weighted mean of the
    two class means)."""
    n = pos.numel() + unl.numel()
    fraction = min(max(sampled_fraction or pos.numel() / n, 1e-12), 1 - 1e-12)  # a class may be absent
    w_pos, w_unl = pixel_weights(0.5 if class_weights else pi, fraction)
    loss_pos = F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos), reduction="sum")
    loss_unl = F.binary_cross_entropy_with_logits(unl, torch.zeros_like(unl), reduction="sum")
    return (w_pos * loss_pos + w_unl * loss_unl) / n


def ge_kl_loss(pos: Tensor, unl: Tensor, target: float, slack: float) -> Tensor:
    """Positives pushed to 1; KL(target || mean unlabeled probability) as the expectation criterion."""
    p_hat = torch.sigmoid(unl).mean().clamp(1e-7, 1 - 1e-7)
    kl = -target * torch.log(p_hat) - (1 - target) * torch.log1p(-p_hat)
    kl = kl + target * torch.log(torch.tensor(target)) + (1 - target) * torch.log1p(torch.tensor(-target))
    return _bce(pos, 1.0) + slack * kl


def ge_binomial_loss(pos: Tensor, unl: Tensor, target: float, slack: float) -> Tensor:
    """Positives pushed to 1; the count of positives among the N unlabeled crops, approximated as
    Gaussian (mean sum p, variance sum p(1-p)), is scored under Binomial(N, target)."""
    p = torch.sigmoid(unl)
    n = p.numel()
    q_mu, q_var = p.sum(), (p * (1 - p)).sum()
    k = torch.arange(n + 1, dtype=p.dtype, device=p.device)
    log_q = torch.log_softmax(-((q_mu - k) ** 2) / (2 * q_var + 1e-10), dim=0)
    log_binom = (
        torch.lgamma(torch.tensor(n + 1.0))
        - torch.lgamma(k + 1)
        - torch.lgamma(n - k + 1)
        + k * torch.log(torch.tensor(target))
        + (n - k) * torch.log1p(torch.tensor(-target))
    )
    ge = -(log_q.exp() * log_binom).sum()
    return _bce(pos, 1.0) + slack * ge


def nn_pu_loss(pos: Tensor, unl: Tensor, pi: float) -> Tensor:
    """Non-negative PU (Kiryo et al. 2017): when the estimated negative risk goes below zero,
    only its negation is minimised."""
    loss_u = _bce(unl, 0.0) - pi * _bce(pos, 0.0)
    if loss_u.item() < 0:
        return -loss_u
    return pi * _bce(pos, 1.0) + loss_u


def objective(cfg: LossConfig, pos: Tensor, unl: Tensor) -> Tensor:
    """The configured loss for one minibatch."""
    if cfg.name == "PN":
        return pn_loss(pos, unl, cfg.pi, cfg.class_weights, cfg.sampled_fraction)
    target = cfg.pi - cfg.p_obs
    if cfg.name == "GE-binomial":
        return ge_binomial_loss(pos, unl, target, cfg.effective_slack)
    if cfg.name == "GE-KL":
        return ge_kl_loss(pos, unl, target, cfg.effective_slack)
    if cfg.name == "PU":
        return nn_pu_loss(pos, unl, cfg.pi)
    raise ValueError(f"unknown loss '{cfg.name}'")
