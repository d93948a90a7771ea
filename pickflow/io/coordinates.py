"""Particle coordinate files: RELION STAR, Topaz txt, CSV and EMAN .box, read and written.

Every table in pickflow uses the columns ``micrograph, x, y`` (plus ``score`` for picks), with
x = column and y = row in pixels of the full-size micrograph, and ``micrograph`` = the
micrograph key (basename without extension, see :func:`pickflow.io.micrographs.micrograph_key`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import starfile

from ..errors import InputError
from .atomic import atomic_path
from .micrographs import micrograph_key

log = logging.getLogger(__name__)

# Rows read from files that carry no micrograph name (EMAN .box, name-less STAR) get the file stem here,
# and ``from_file`` marks them so that a suffix such as "_autopick" can be matched later.
_COLUMNS = ["micrograph", "x", "y"]


def detect_format(path: Path) -> str:
    """Guess the coordinate format from the file suffix."""
    suffix = path.suffix.lower()
    if suffix == ".star":
        return "star"
    if suffix == ".box":
        return "box"
    if suffix == ".csv":
        return "csv"
    if suffix in (".txt", ".coord", ".tsv"):
        return "topaz"
    if suffix == ".cs":
        return "cryosparc"
    raise InputError(
        f"{path}: cannot tell the coordinate format from '{suffix}'. Use .star, .txt (Topaz), .csv, .box or .cs."
    )


class EmptyCoordinatesError(InputError):
    """A coordinate file without coordinates (a micrograph visited, nothing picked)."""


def read_coordinate_file(
    path: str | os.PathLike[str], fmt: str = "auto", pixel_size: float | None = None
) -> pd.DataFrame:
    """Read one coordinate file into ``micrograph, x, y[, score], from_file`` (x, y = particle centres).

    ``pixel_size`` (Å per micrograph pixel) converts the ``_rlnOriginXAngst/YAngst`` offsets of a
    RELION refinement or classification ``_data.star``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: coordinate file not found. Check labels.coordinates in config.yaml.")
    fmt = detect_format(path) if fmt == "auto" else fmt
    try:
        table = _read(path, fmt, pixel_size)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: cannot parse as {fmt} coordinates ({exc}).") from exc
    if table.empty:
        raise EmptyCoordinatesError(f"{path}: no coordinates in this file. Remove it or add the labeled particles.")
    for column in ("x", "y"):
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any() or not np.isfinite(values).all():
            raise InputError(f"{path}: non-numeric or non-finite {column} coordinates.")
        table[column] = values.astype(float)
    table["micrograph"] = table["micrograph"].astype(str).map(micrograph_key)
    return table.reset_index(drop=True)


def _read(path: Path, fmt: str, pixel_size: float | None) -> pd.DataFrame:
    if fmt == "star":
        return _read_star(path, pixel_size)
    if fmt == "cryosparc":
        from .cryosparc import read_particles_cs

        return read_particles_cs(path)
    return {"topaz": _read_topaz, "csv": _read_csv, "box": _read_box}[fmt](path)


def _particle_centres(df: pd.DataFrame, pixel_size: float | None, path: Path) -> tuple[pd.Series, pd.Series]:
    """RELION's particle centre: the coordinate minus the origin offset of a refinement/classification
    (``_rlnOriginXAngst`` in Å, or the older ``_rlnOriginX`` in pixels), as its re-extraction computes it."""
    x, y = df["rlnCoordinateX"].astype(float), df["rlnCoordinateY"].astype(float)
    if {"rlnOriginXAngst", "rlnOriginYAngst"} <= set(df.columns):
        if pixel_size is None:
            raise InputError(
                f"{path}: _rlnOriginXAngst/YAngst need the micrograph pixel size (micrographs.pixel_size)."
            )
        return x - df["rlnOriginXAngst"].astype(float) / pixel_size, y - df["rlnOriginYAngst"].astype(
            float
        ) / pixel_size
    if {"rlnOriginX", "rlnOriginY"} <= set(df.columns):
        return x - df["rlnOriginX"].astype(float), y - df["rlnOriginY"].astype(float)
    return x, y


def _read_star(path: Path, pixel_size: float | None = None) -> pd.DataFrame:
    data = cast(dict[str, Any], starfile.read(path, always_dict=True, parse_as_string=["rlnMicrographName"]))
    blocks = [df for df in data.values() if isinstance(df, pd.DataFrame) and "rlnCoordinateX" in df.columns]
    if not blocks:
        raise InputError(f"{path}: no data block with _rlnCoordinateX/_rlnCoordinateY.")
    df = blocks[0]
    x, y = _particle_centres(df, pixel_size, path)
    table = pd.DataFrame({"x": x, "y": y})
    if "rlnMicrographName" in df.columns:
        table.insert(0, "micrograph", df["rlnMicrographName"].astype(str))
        table["from_file"] = False
    else:
        table.insert(0, "micrograph", path.stem)
        table["from_file"] = True
    if "rlnAutopickFigureOfMerit" in df.columns:
        table["score"] = df["rlnAutopickFigureOfMerit"].astype(float)
    return table


def _read_topaz(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, sep=r"\s+", dtype={"image_name": str})
    missing = {"image_name", "x_coord", "y_coord"} - set(df.columns)
    if missing:
        raise InputError(
            f"{path}: Topaz coordinates need the header 'image_name x_coord y_coord'; missing {sorted(missing)}."
        )
    table = pd.DataFrame({"micrograph": df["image_name"], "x": df["x_coord"], "y": df["y_coord"], "from_file": False})
    if "score" in df.columns:
        table["score"] = df["score"].astype(float)
    return table


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a pickflow CSV table, keeping micrograph names as text ('0001' stays '0001')."""
    return pd.read_csv(path, dtype={"micrograph": str})


def _read_csv(path: Path) -> pd.DataFrame:
    df = read_table(path)
    missing = set(_COLUMNS) - set(df.columns)
    if missing:
        raise InputError(f"{path}: CSV coordinates need the columns micrograph,x,y; missing {sorted(missing)}.")
    table = df[[c for c in ("micrograph", "x", "y", "score") if c in df.columns]].copy()
    table["from_file"] = False
    return table


def _read_box(path: Path) -> pd.DataFrame:
    values = np.loadtxt(path, ndmin=2, dtype=float)
    if values.size == 0:
        return pd.DataFrame(columns=[*_COLUMNS, "from_file"])
    if values.shape[1] < 4:
        raise InputError(f"{path}: EMAN .box lines need 4 numbers 'x y width height' (lower-left corner + box size).")
    x = values[:, 0] + values[:, 2] / 2.0
    y = values[:, 1] + values[:, 3] / 2.0
    return pd.DataFrame({"micrograph": path.stem, "x": x, "y": y, "from_file": True})


# A coordinate file named after its micrograph may add one of these words after the micrograph name,
# joined by one of FILE_NAME_SEPARATORS: ``mic_autopick.star``, ``mic-coords.box``, ``mic.picks.star``.
FILE_NAME_SUFFIXES = (
    "autopick",
    "manualpick",
    "pick",
    "picks",
    "picked",
    "coords",
    "coordinates",
    "particles",
    "topaz",
    "cryolo",
    "pickflow",
)
FILE_NAME_SEPARATORS = ("_", "-", ".")


def keys_matching_file_name(stem: str, keys: Iterable[str]) -> list[str]:
    """Micrograph keys a file stem can name: the key itself, or key + separator + a known suffix.

    The suffix is compared case-insensitively; anything else after the key (``mic12`` for ``mic1``,
    ``mic_DW_autopick`` for ``mic``) does not match.
    """
    endings = {""} | {sep + word for sep in FILE_NAME_SEPARATORS for word in FILE_NAME_SUFFIXES}
    return sorted(k for k in keys if stem.startswith(k) and stem[len(k) :].lower() in endings)


def _match_file_names(names: Iterable[str], keys: Iterable[str], source: str) -> dict[str, str | None]:
    """Map file stems onto keys (None when no key matches); raise when a stem fits several keys."""
    keys = list(keys)
    matches = {name: keys_matching_file_name(name, keys) for name in names}
    ambiguous = {name: found for name, found in matches.items() if len(found) > 1}
    if ambiguous:
        listed = "; ".join(f"'{name}' fits {', '.join(found)}" for name, found in sorted(ambiguous.items()))
        raise InputError(
            f"{source}: the file name cannot tell which micrograph these coordinates belong to: {listed}. "
            "Rename the coordinate file to the micrograph's name (optionally + _autopick), "
            "or use a format that names the micrograph in each row (STAR with _rlnMicrographName, CSV, Topaz)."
        )
    return {name: (found[0] if found else None) for name, found in matches.items()}


def resolve_names(table: pd.DataFrame, keys: Iterable[str], source: str) -> pd.DataFrame:
    """Map coordinate rows onto micrograph keys; raise one error listing every unknown name.

    Rows named after their file (``from_file``) match a key exactly or with a known suffix (see
    :func:`keys_matching_file_name`); a file name that fits two keys is an error.
    """
    keys = list(keys)
    names = table["micrograph"].astype(str)
    file_named = table["from_file"].astype(bool)
    resolved = names.where(names.isin(set(keys)) & ~file_named)
    if file_named.any():
        lookup = _match_file_names(names[file_named].unique(), keys, source)
        resolved[file_named] = names[file_named].map(lookup)
    unknown = sorted(names[resolved.isna()].unique())
    if unknown:
        shown = ", ".join(unknown[:20]) + (f" (+{len(unknown) - 20} more)" if len(unknown) > 20 else "")
        raise InputError(
            f"{source}: coordinates for micrographs that are not in the micrograph list: {shown}. "
            "Names are matched by basename without extension; a file named after its micrograph may add "
            f"one of {', '.join(FILE_NAME_SUFFIXES)} after _, - or . (mic_autopick.star). "
            "Add these micrographs to micrographs.path or remove their coordinates."
        )
    out = table.drop(columns="from_file").copy()
    out["micrograph"] = resolved.astype(str)
    return out


def read_labels(
    paths: Iterable[str | os.PathLike[str]],
    keys: Iterable[str],
    fmt: str = "auto",
    pixel_size: float | None = None,
    name_suffixes: Iterable[str] = (),
) -> pd.DataFrame:
    """Read every coordinate file and return one ``micrograph, x, y`` table matched to ``keys``.

    A RELION ``coordinate_files`` node (``manualpick.star``) stands for the files it lists. Files without
    coordinates (micrographs visited, nothing picked) are skipped with a warning, unless all are empty.
    cryoSPARC names (``<uid>_`` prefix, ``name_suffixes``) are matched to the keys first.
    """
    from .cryosparc import match_cryosparc_names

    keys = list(keys)
    tables, empty = [], []
    for source, table in _label_tables(paths, fmt, pixel_size):
        if table is None:
            empty.append(source)
        else:
            tables.append(resolve_names(match_cryosparc_names(table, keys, name_suffixes), keys, source))
    if not tables:
        if empty:
            raise InputError(
                f"no coordinates in any coordinate file ({', '.join(empty[:3])}): there are no labels. "
                "Add the labeled particles, or point labels.coordinates at the files that have them."
            )
        raise InputError("labels.coordinates matched no files. Point it at a STAR/txt/CSV/.box/.cs file or glob.")
    if empty:
        log.warning(
            "%d coordinate file(s) have no coordinates (micrographs visited, nothing picked): %s",
            len(empty),
            ", ".join(empty[:10]) + (" ..." if len(empty) > 10 else ""),
        )
    return pd.concat(tables, ignore_index=True)[_COLUMNS]


def _label_tables(
    paths: Iterable[str | os.PathLike[str]], fmt: str, pixel_size: float | None
) -> Iterator[tuple[str, pd.DataFrame | None]]:
    """(source, table or None when empty) for each file; a coordinate_files node yields its listed files,
    named by the node's ``_rlnMicrographName`` (paths relative to the directory the workflow runs in)."""
    from .relion import read_coordinate_node

    for path in paths:
        is_star = fmt == "star" or (fmt == "auto" and detect_format(Path(path)) == "star")
        node = read_coordinate_node(path) if is_star else None
        if node is None:
            yield str(path), _table_or_none(path, fmt, pixel_size)
            continue
        for micrograph, coordinates in node.itertuples(index=False):
            table = _table_or_none(coordinates, "auto", pixel_size)
            named = None if table is None else table.assign(micrograph=micrograph_key(micrograph), from_file=False)
            yield f"{path} ({coordinates})", named


def _table_or_none(path: str | os.PathLike[str], fmt: str, pixel_size: float | None) -> pd.DataFrame | None:
    try:
        return read_coordinate_file(path, fmt, pixel_size)
    except EmptyCoordinatesError:
        return None


def check_inside(labels: pd.DataFrame, shapes: dict[str, tuple[int, int]], source: str) -> None:
    """Raise if any coordinate lies outside its micrograph (``shapes`` maps key -> (ny, nx))."""
    ny = labels["micrograph"].map(lambda k: shapes[cast(str, k)][0]).to_numpy(float)
    nx = labels["micrograph"].map(lambda k: shapes[cast(str, k)][1]).to_numpy(float)
    outside = (labels["x"] < 0) | (labels["y"] < 0) | (labels["x"] > nx - 1) | (labels["y"] > ny - 1)
    if outside.any():
        bad = labels[outside]
        examples = "; ".join(f"{r.micrograph} ({r.x:.1f}, {r.y:.1f})" for r in bad.head(5).itertuples())
        raise InputError(
            f"{source}: {int(outside.sum())} coordinates lie outside their micrograph, e.g. {examples}. "
            "Coordinates must be in pixels of the full-size micrograph (x = column, y = row); "
            "rescale them if they were picked on binned images."
        )


def write_star(picks: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """RELION STAR with micrograph name, centre coordinates and figure of merit."""
    df = pd.DataFrame(
        {
            "rlnMicrographName": picks["micrograph"].astype(str),
            "rlnCoordinateX": picks["x"].astype(float),
            "rlnCoordinateY": picks["y"].astype(float),
            "rlnAutopickFigureOfMerit": picks["score"].astype(float),
        }
    )
    with atomic_path(path) as tmp:
        starfile.write(df, tmp, overwrite=True)


def write_csv(picks: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Plain CSV ``micrograph,x,y,score``."""
    with atomic_path(path) as tmp:
        picks[["micrograph", "x", "y", "score"]].to_csv(tmp, index=False, float_format="%.3f")


def write_topaz(picks: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Topaz coordinate table ``image_name x_coord y_coord score`` (tab separated, integer pixels)."""
    df = pd.DataFrame(
        {
            "image_name": picks["micrograph"].astype(str),
            "x_coord": np.rint(picks["x"]).astype(int),
            "y_coord": np.rint(picks["y"]).astype(int),
            "score": picks["score"].astype(float),
        }
    )
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format="%.4f")


def write_box(picks: pd.DataFrame, path: str | os.PathLike[str], box_size: int) -> None:
    """EMAN .box for one micrograph: lower-left corner and box size, integer pixels."""
    corner_x = np.rint(picks["x"].to_numpy(float) - box_size / 2.0).astype(int)
    corner_y = np.rint(picks["y"].to_numpy(float) - box_size / 2.0).astype(int)
    size = np.full_like(corner_x, box_size)
    with atomic_path(path) as tmp:
        np.savetxt(tmp, np.column_stack([corner_x, corner_y, size, size]), fmt="%d", delimiter="\t")
