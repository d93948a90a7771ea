"""Picks as a cryoSPARC particle dataset (``.cs``), written with cryosparc-tools.

cryoSPARC stores a particle location as fractions of the micrograph: ``location/center_x_frac`` along
the columns (x) and ``location/center_y_frac`` along the rows (y), with ``location/micrograph_shape``
= (rows, columns) = (ny, nx). So x = center_x_frac * shape[1] and y = center_y_frac * shape[0], in the
same full-size pixels and orientation as pickflow's coordinates.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
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


def read_particles_cs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Particle centres of a cryoSPARC ``.cs`` dataset as ``micrograph, x, y, from_file`` (full-size pixels)."""
    from cryosparc.dataset import Dataset

    dataset = Dataset.load(os.fspath(path))
    needed = {
        "location/micrograph_path",
        "location/micrograph_shape",
        "location/center_x_frac",
        "location/center_y_frac",
    }
    missing = needed - set(dataset.fields())
    if missing:
        raise InputError(f"{path}: not a cryoSPARC particle dataset with locations; missing {sorted(missing)}.")
    shape = np.asarray(dataset["location/micrograph_shape"], dtype=float).reshape(len(dataset), 2)
    return pd.DataFrame(
        {
            "micrograph": np.asarray(dataset["location/micrograph_path"]).astype(str),
            "x": np.asarray(dataset["location/center_x_frac"], dtype=float) * shape[:, 1],
            "y": np.asarray(dataset["location/center_y_frac"], dtype=float) * shape[:, 0],
            "from_file": False,
        }
    )


# cryoSPARC prefixes the files it imports with a numeric uid: "012345678901234567890_mic.mrc".
_UID_PREFIX = re.compile(r"^\d{6,}_")


def cryosparc_key(name: str, keys: set[str], suffixes: Iterable[str]) -> str | None:
    """The user's micrograph key a cryoSPARC name stands for (``<uid>_`` prefix removed, then one of
    ``suffixes`` such as ``_patch_aligned_doseweighted``), or None when none matches."""
    bare = _UID_PREFIX.sub("", name, count=1)
    candidates = [bare] + [bare[: -len(s)] for s in sorted(suffixes, key=len, reverse=True) if s and bare.endswith(s)]
    return next((c for c in candidates if c in keys), None)


def match_cryosparc_names(table: pd.DataFrame, keys: Iterable[str], suffixes: Iterable[str]) -> pd.DataFrame:
    """Rename rows whose micrograph is not a key but a cryoSPARC form of one; other rows stay as they are."""
    key_set, suffixes = set(keys), list(suffixes)
    names = table["micrograph"].astype(str)
    unknown = ~names.isin(key_set)
    if not unknown.any():
        return table
    lookup = {name: cryosparc_key(name, key_set, suffixes) for name in names[unknown].unique()}
    renamed = names.where(~unknown, names.map(lambda n: lookup.get(n) or n))
    return table.assign(micrograph=renamed)


def twin_warnings(keys: Iterable[str]) -> list[str]:
    """Warnings for micrograph lists that take in cryoSPARC's dose-weighted and non-dose-weighted twins
    (``X_patch_aligned`` and ``X_patch_aligned_doseweighted``) or its thumbnails (``_thumb_@1x``)."""
    key_set = set(keys)
    twins = sorted(k for k in key_set if k.endswith("_doseweighted") and k[: -len("_doseweighted")] in key_set)
    thumbs = sorted(k for k in key_set if "_thumb_@" in k)
    warnings = []
    if twins:
        warnings.append(
            f"micrographs.path takes in {len(twins)} micrograph(s) both dose-weighted and not, e.g. {twins[0]} "
            "and its twin without _doseweighted: each particle would count twice. Narrow the glob to one of them "
            "(e.g. *_doseweighted.mrc)."
        )
    if thumbs:
        warnings.append(
            f"micrographs.path takes in {len(thumbs)} cryoSPARC thumbnail(s), e.g. {thumbs[0]}: "
            "narrow the glob to the full-size micrographs."
        )
    return warnings
