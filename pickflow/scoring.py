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
