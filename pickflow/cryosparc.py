"""Picks as a cryoSPARC particle dataset (``.cs``), written with cryosparc-tools.

cryoSPARC stores a particle location as fractions of the micrograph: ``location/center_x_frac`` along
the columns (x) and ``location/center_y_frac`` along the rows (y), with ``location/micrograph_shape``
= (rows, columns) = (ny, nx). So x = center_x_frac * shape[1] and y = center_y_frac * shape[0], in the
same full-size pixels and orientation as pickflow's coordinates.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .atomic import atomic_path

FIELDS = [
    ("location/micrograph_path", "O"),
    ("location/micrograph_shape", "<u4", (2,)),
    ("location/center_x_frac", "<f4"),
    ("location/center_y_frac", "<f4"),
    ("pickflow/score", "<f4"),
]


def _stable_uid(micrograph: str, x: float, y: float) -> int:
    """A 64-bit particle uid from the micrograph and position, so reruns write the same file."""
    digest = hashlib.blake2b(f"{micrograph}:{x:.3f}:{y:.3f}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def write_particles_cs(
    picks: pd.DataFrame,
    micrograph_paths: Mapping[str, str],
    shapes: Mapping[str, tuple[int, int]],
    path: str | os.PathLike[str],
) -> None:
    """Write ``picks`` (``micrograph`` key, ``x``, ``y``, ``score``) as a cryoSPARC particle ``.cs``.

    ``shapes`` maps each key to the full-size (ny, nx); the score (pickflow's logit) goes to ``pickflow/score``.
    """
    from cryosparc.dataset import Dataset

    keys = picks["micrograph"].astype(str).to_numpy()
    names = np.array([micrograph_paths[k] for k in keys], dtype=object)
    shape = np.array([shapes[k] for k in keys], dtype=np.uint32).reshape(len(picks), 2)
    x = picks["x"].to_numpy(float)
    y = picks["y"].to_numpy(float)
    uids = np.array([_stable_uid(n, a, b) for n, a, b in zip(names, x, y, strict=True)], dtype=np.uint64)
    dataset = Dataset.allocate(len(picks), FIELDS)
    dataset["uid"] = uids
    dataset["location/micrograph_path"] = names
    dataset["location/micrograph_shape"] = shape
    dataset["location/center_x_frac"] = x / shape[:, 1]
    dataset["location/center_y_frac"] = y / shape[:, 0]
    dataset["pickflow/score"] = picks["score"].to_numpy(float)
    with atomic_path(path) as tmp:
        dataset.save(tmp)
