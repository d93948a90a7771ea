"""General pretrained pickers shipped with pickflow."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

DIRECTORY = Path(__file__).resolve().parent / "general"


def general_model_path(family: str) -> Path:
    """The shipped general model of ``family``."""
    path = DIRECTORY / f"{family}.pt"
    if not path.is_file():
        raise InputError(
            f"train.model: no general model is shipped for '{family}'; use pick.model: PATH or train.init: scratch"
        )
    return path
