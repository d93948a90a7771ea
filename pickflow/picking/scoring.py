"""Scoring micrographs with a network: whole micrographs in tiles, with memory bounded."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..models.modelfile import Network


@torch.no_grad()
def score_image(
    model: Network,
    image: np.ndarray,
    device: torch.device,
    stride: int = 1,
    tile: int = 1024,
    average_symmetries: bool = False,
) -> np.ndarray:
    """Logits on the grid ``image[::stride, ::stride]``, computed in tiles of ``tile`` pixels so
    memory stays bounded for large micrographs (each tile gets the model's margin of context, and
    tile corners sit on the model's pooling grid, so tiles give the same logits as one pass).

    ``average_symmetries``: the mean logits of the image's 8 views (4 rotations by 90°, each also mirrored),
    each mapped back onto the image, so the map turns with the image. The views are scored as one batch per
    tile (all 8 for a square image, else two batches of 4), so a tile takes 8 (or 4) times the memory. For
    each view's grid to fall on the image's grid, the image is zero-padded at its far edges to 1 + a multiple
    of ``stride`` pixels (beyond the image the model sees zeros either way)."""
    m = model.margin
    step = math.lcm(stride, model.alignment)
    tile = max(step, tile - tile % step)
    ny, nx = image.shape
    pixels = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).to(device)
    views = [(False, ())]  # (transposed, flipped dims): with the 4 flips, transposing gives the 4 rotations
    if average_symmetries:
        pixels = F.pad(pixels, (0, -(nx - 1) % stride, 0, -(ny - 1) % stride))
        views = [(t, d) for t in (False, True) for d in ((), (-1,), (-2,), (-2, -1))]
    square = pixels.shape[0] == pixels.shape[1]
    groups = [views] if square or len(views) == 1 else [views[:4], views[4:]]  # views of one shape per batch
    total = torch.zeros((-(-ny // stride), -(-nx // stride)), dtype=torch.float32, device=device)
    for group in groups:
        batch = torch.stack([(pixels.T if t else pixels).flip(d) for t, d in group])[:, None]
        height, width = batch.shape[-2:]
        padded = F.pad(batch, (m,) * 4)
        out = torch.empty((len(group), -(-height // stride), -(-width // stride)), device=device)
        for y0 in range(0, height, tile):
            for x0 in range(0, width, tile):
                y1, x1 = min(y0 + tile, height), min(x0 + tile, width)
                logits = model.dense(padded[:, :, y0 : y1 + 2 * m, x0 : x1 + 2 * m], stride)
                out[:, y0 // stride : -(-y1 // stride), x0 // stride : -(-x1 // stride)] = logits.float()
        for (t, d), logits in zip(group, out, strict=True):
            back = logits.flip(d)
            total += (back.T if t else back)[: total.shape[0], : total.shape[1]]
    return (total / len(views)).cpu().numpy()
