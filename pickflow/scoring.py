"""Scoring micrographs with a network: whole micrographs in tiles, with memory bounded."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .models.modelfile import Network


@torch.no_grad()
def score_image(
    model: Network, image: np.ndarray, device: torch.device, stride: int = 1, tile: int = 1024
) -> np.ndarray:
    """Logits on the grid ``image[::stride, ::stride]``, computed in tiles of ``tile`` pixels so
    memory stays bounded for large micrographs (each tile gets the model's margin of context, and
    tile corners sit on the model's pooling grid, so tiles give the same logits as one pass)."""
    m = model.margin
    step = math.lcm(stride, model.alignment)
    tile = max(step, tile - tile % step)
    padded = F.pad(torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).to(device)[None, None], (m,) * 4)
    ny, nx = image.shape
    out = np.empty((-(-ny // stride), -(-nx // stride)), dtype=np.float32)
    for y0 in range(0, ny, tile):
        for x0 in range(0, nx, tile):
            y1, x1 = min(y0 + tile, ny), min(x0 + tile, nx)
            logits = model.dense(padded[:, :, y0 : y1 + 2 * m, x0 : x1 + 2 * m], stride)[0]
            out[y0 // stride : -(-y1 // stride), x0 // stride : -(-x1 // stride)] = logits.float().cpu().numpy()
    return out
