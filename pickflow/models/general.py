"""The general pretrained models shipped in ``pickflow/general/``: where they are and what they need.

A general model was trained on simulated micrographs of many kinds (``benchmarks/general_models.py``), all
preprocessed to one scale, ``particle_pixels`` preprocessed pixels per particle diameter, with one
normalization. Its metadata (``FAMILY.json`` beside ``FAMILY.pt``, readable without torch) records that scale,
the normalization, the architecture and the sha256 of the weights; ``MODEL_CARD.md`` says how it was made and
what it scores.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..errors import InputError

GENERAL_DIR = Path(__file__).resolve().parents[1] / "general"
PARTICLE_PIXELS = 24.0  # preprocessed pixels per particle diameter of every general model
NORMALIZE = "gmm"  # the normalization of every general model's input


def available_families() -> list[str]:
    """Model families with a shipped general model."""
    return sorted(p.stem for p in GENERAL_DIR.glob("*.json") if (GENERAL_DIR / f"{p.stem}.pt").exists())


def has_general_model(family: str) -> bool:
    """Whether a general model ships for ``family``."""
    return family in available_families()


def general_model_path(family: str) -> Path:
    """The shipped general model file (``model.pt`` format) of ``family``.

    Raises :class:`InputError` naming ``train.model`` and ``train.init`` when none ships for it.
    """
    if not has_general_model(family):
        shipped = ", ".join(available_families()) or "none"
        raise InputError(
            f"train.init: no general model ships for train.model '{family}' (general models: {shipped}); "
            "set train.init to scratch or to the model.pt of an earlier run, or choose one of those models"
        )
    return GENERAL_DIR / f"{family}.pt"


def general_model_info(family: str) -> dict:
    """Metadata of the general model of ``family``: ``particle_pixels``, ``normalize``, ``model_config``,
    ``label_radius``, ``sha256`` of the weights file and how it was trained (raises like
    :func:`general_model_path`)."""
    path = general_model_path(family)
    return json.loads(path.with_suffix(".json").read_text())


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
