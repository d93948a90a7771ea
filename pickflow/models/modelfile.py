"""Building a network, and the model and checkpoint files (model.pt, last.pt, resume.pt): written with
plain Python types and tensors only, and read with ``torch.load(weights_only=True)``, so loading a file
never runs code."""

from __future__ import annotations

import os
import pickle
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InputError
from ..io.atomic import atomic_path
from .architecture import SEGMENTATION, ModelConfig
from .topaz import Picker
from .unet import UNet

Network = Picker | UNet


def build_model(cfg: ModelConfig) -> Network:
    """A fresh network of the configured family."""
    return UNet(cfg) if cfg.name in SEGMENTATION else Picker(cfg)


def save_model(path: str | os.PathLike[str], model: Network, extra: dict) -> None:
    """Write the model (architecture config + weights + metadata) atomically."""
    save(path, {"model_config": asdict(model.config), "state_dict": model.state_dict(), **extra})


def load_model(path: str | os.PathLike[str], device: torch.device) -> tuple[Network, dict]:
    """Rebuild a saved picker in eval mode; also return the file's metadata (a file that holds code
    or is damaged is an InputError naming it)."""
    payload = load(path, device)
    model = build_model(ModelConfig(**payload["model_config"])).to(device)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, payload


def save(path: str | os.PathLike[str], payload: dict) -> None:
    """Write ``payload`` atomically, numpy values and paths turned into plain Python values."""
    with atomic_path(path) as tmp:
        torch.save(plain(payload), tmp)


def load(path: str | os.PathLike[str], device: torch.device) -> dict:
    """Read a file written by :func:`save`; a file that holds code or is damaged is an InputError."""
    path = Path(path)
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = [line.strip() for line in str(exc).splitlines() if "unsupported GLOBAL" in line]
        if not found:  # not a pickle of objects: a damaged file
            raise _damaged(path, exc) from exc
        raise InputError(
            f"{path}: refused to load: the file holds Python objects that would run code when loaded "
            f"({found[0]}). pickflow writes only tensors and plain values: use a model file pickflow wrote, "
            "or delete this one and train again."
        ) from None
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch reports a damaged archive as RuntimeError, KeyError, EOFError or OSError
        raise _damaged(path, exc) from exc


def _damaged(path: Path, exc: Exception) -> InputError:
    reason = str(exc).split(". ")[0] or type(exc).__name__
    return InputError(
        f"{path}: not a readable model file ({reason}); it is truncated or corrupt. "
        "Copy it again, or delete it and train again."
    )


def plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays as Python numbers and lists, paths as strings."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(plain(item) for item in value)
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return value
