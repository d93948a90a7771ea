"""Where and how the networks compute: the device, whether it computes bfloat16 natively, threads."""

from __future__ import annotations

import logging
import os

import torch

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
