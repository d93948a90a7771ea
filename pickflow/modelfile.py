"""Model and checkpoint files (model.pt, last.pt, resume.pt): written with plain Python types and
tensors only, and read with ``torch.load(weights_only=True)``, so loading a file never runs code."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .atomic import atomic_path
from .errors import InputError


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
