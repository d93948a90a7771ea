"""Scoring micrographs with a trained picker: device choice, tiling, and model files."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import asdict

import numpy as np
import torch
import torch.nn.functional as F

from . import modelfile
from .model_config import SEGMENTATION
from .models import ModelConfig, Picker
from .unet import UNet

Network = Picker | UNet

log = logging.getLogger(__name__)


def resolve_device(spec: str) -> torch.device:
    """``auto`` -> first CUDA device if one works, else CPU (logged, so a silent CPU run cannot happen)."""
    if spec == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda" if spec == "auto" else spec)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if spec != "auto":
        raise RuntimeError(f"device '{spec}' requested but CUDA is not available (CUDA_VISIBLE_DEVICES={visible}).")
    log.warning("no usable CUDA device (CUDA_VISIBLE_DEVICES=%s): falling back to CPU", visible)
    return torch.device("cpu")


def native_bf16(device: torch.device) -> bool:
    """Whether the device computes bfloat16 natively (CPU: AVX512-BF16 or AMX; CUDA: Ampere or newer)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()  # not emulated
    return device.type == "cpu" and torch.backends.mkldnn.is_available() and native


def set_threads(threads: int) -> None:
    """Use exactly the job's threads for intra-op work."""
    torch.set_num_threads(max(1, int(threads)))


def build_model(cfg: ModelConfig) -> Network:
    """A fresh network of the configured family."""
    return UNet(cfg) if cfg.name in SEGMENTATION else Picker(cfg)


def save_model(path: str | os.PathLike[str], model: Network, extra: dict) -> None:
    """Write the model (architecture config + weights + metadata) atomically."""
    modelfile.save(path, {"model_config": asdict(model.config), "state_dict": model.state_dict(), **extra})


def load_model(path: str | os.PathLike[str], device: torch.device) -> tuple[Network, dict]:
    """Rebuild a saved picker in eval mode; also return the file's metadata (a file that holds code
    or is damaged is an InputError naming it)."""
    payload = modelfile.load(path, device)
    model = build_model(ModelConfig(**payload["model_config"])).to(device)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, payload


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
