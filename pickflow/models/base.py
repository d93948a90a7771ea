"""What both families share: whole-micrograph scoring from a network's ``margin`` and ``dense``."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


class DenseScorer:
    """Whole-image scoring for networks with ``margin`` (context pixels needed on each side) and
    ``dense(window, stride)`` (logits of the window's interior)."""

    margin: int  # context pixels needed on each side of a window
    alignment: int  # windows are scored in tiles whose corners sit on multiples of this (the pooling grid)

    def dense(self, window: Tensor, stride: int = 1) -> Tensor:
        raise NotImplementedError

    def score(self, image: Tensor, stride: int = 1) -> Tensor:
        """Logits (B, ceil(H/stride), ceil(W/stride)) for (B, 1, H, W) images zero-padded by the
        margin; output pixel (i, j) is the logit of input pixel (i*stride, j*stride)."""
        m = self.margin
        return self.dense(F.pad(image, (m, m, m, m)), stride)
