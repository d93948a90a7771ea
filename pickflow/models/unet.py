"""The segmentation family: a U-Net that paints a disc of positive logits around each particle
(what cryoSPARC's Deep Picker trains), trained on micrograph patches.

The encoder halves the resolution ``depth`` times with 2x2 max pooling (two 3x3 convolutions per
level, widths ``units * unit_scaling**level``); the decoder doubles it back with transposed
convolutions and merges the encoder's features at each level. Convolutions are zero-padded, so
a patch gives one logit per pixel; inputs must be a multiple of ``2**depth`` in each dimension
(:meth:`UNet.dense` pads them).
"""

from __future__ import annotations

from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .architecture import ModelConfig, require_valid, unet_receptive_field
from .base import DenseScorer


class _DoubleConv(nn.Sequential):
    """Two 3x3 convolutions, each followed by batch norm (optional) and ReLU."""

    def __init__(self, cin: int, cout: int, bn: bool) -> None:
        layers: list[nn.Module] = []
        for c in (cin, cout):
            layers += [nn.Conv2d(c, cout, 3, padding=1, bias=not bn)]
            layers += [nn.BatchNorm2d(cout)] if bn else []
            layers += [nn.ReLU(inplace=True)]
        super().__init__(*layers)


class UNet(DenseScorer, nn.Module):
    """Encoder-decoder segmentation network: (B, 1, H, W) -> (B, H, W) logits."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        require_valid(cfg)
        widths = [cfg.units * cfg.unit_scaling**level for level in range(cfg.depth + 1)]
        self.config = cfg
        self.down = nn.ModuleList(_DoubleConv(cin, w, cfg.batchnorm) for cin, w in pairwise([1, *widths[:-1]]))
        self.bottom = _DoubleConv(widths[-2], widths[-1], cfg.batchnorm)
        self.drop = nn.Dropout2d(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        self.up = nn.ModuleList(nn.ConvTranspose2d(w2, w1, 2, stride=2) for w1, w2 in pairwise(widths))
        self.merge = nn.ModuleList(_DoubleConv(2 * w, w, cfg.batchnorm) for w in widths[:-1])
        self.head = nn.Conv2d(widths[0], 1, 1)
        self.receptive_field = unet_receptive_field(cfg.depth)
        # Pooling and upsampling make the dependence on the input lopsided by up to 2**depth pixels, so
        # a full receptive field of context on each side keeps tiled scores exact.
        self.margin = self.receptive_field
        self.alignment = 2**cfg.depth

    def forward(self, x: Tensor) -> Tensor:
        """Logits (B, H, W) for patches (B, 1, H, W) with H and W multiples of ``2**depth``."""
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.drop(self.bottom(x))
        for up, merge, skip in zip(reversed(self.up), reversed(self.merge), reversed(skips), strict=True):
            x = merge(torch.cat([skip, up(x)], dim=1))
        return self.head(x)[:, 0]

    def dense(self, window: Tensor, stride: int = 1) -> Tensor:
        """Logits on every ``stride``-th pixel of the window less ``margin`` on each side."""
        height, width = window.shape[-2:]
        a = self.alignment
        x = F.pad(window, (0, -width % a, 0, -height % a))
        m = self.margin
        return self(x)[:, m : height - m : stride, m : width - m : stride]
