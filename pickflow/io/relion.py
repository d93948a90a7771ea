"""Picks in the files RELION reads as they are: per-micrograph coordinate STARs in the tree RELION
looks them up in, the RELION 3.1 ``coords_suffix`` node, and the RELION 4/5 ``coordinate_files`` node.

RELION names a micrograph by its path relative to the project directory (``_rlnMicrographName``).
Its Extract finds the coordinates of micrograph ``P`` at ``COORD_DIR + post(P) without extension +
SUFFIX``, where ``post(P)`` is ``P`` with a leading pipeline job part (``MotionCorr/job002/``) removed;
RELION 4/5 can instead take a ``coordinate_files`` table that lists the file of each micrograph.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, cast

import pandas as pd
import starfile

from ..errors import InputError
from .atomic import atomic_path, write_text

SUFFIX = "_pickflow.star"
# "<anything>/jobNNN/": the part of a pipeline file name that RELION drops when it looks for coordinates.
_PIPELINE_JOB = re.compile(r"^.*?/job\d{3}[^/]*/")


def relion_post_name(micrograph_name: str) -> str:
    """The micrograph name without its pipeline job part, as RELION's Extract uses it
    (``MotionCorr/job002/Movies/a.mrc`` -> ``Movies/a.mrc``; ``Movies/a.mrc`` stays)."""
    return _PIPELINE_JOB.sub("", micrograph_name, count=1)


def coordinate_file_name(micrograph_name: str, suffix: str = SUFFIX) -> str:
    """Where RELION looks for a micrograph's coordinates, relative to the coordinate directory.

    A leading ``/`` is dropped (RELION joins the directory and the name as strings) and ``..`` parts
    are written as ``__``, so that every file stays inside the coordinate directory.
    """
    post = relion_post_name(micrograph_name)
    stem = post[: post.rfind(".")] if "." in PurePosixPath(post).name else post
    parts = [("__" if part == ".." else part) for part in PurePosixPath(stem).parts if part not in ("/", ".")]
    return str(PurePosixPath(*parts)) + suffix


def _coordinates_table(picks: pd.DataFrame, micrograph_name: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rlnCoordinateX": picks["x"].to_numpy(float),
            "rlnCoordinateY": picks["y"].to_numpy(float),
            "rlnAutopickFigureOfMerit": picks["score"].to_numpy(float),
            "rlnMicrographName": [micrograph_name] * len(picks),
        }
    )


def write_coordinate_file(picks: pd.DataFrame, micrograph_name: str, path: str | os.PathLike[str]) -> None:
    """One micrograph's coordinates (header only when it has no picks) as a RELION STAR, atomically."""
    with atomic_path(path) as tmp:
        starfile.write(_coordinates_table(picks, micrograph_name), tmp, overwrite=True)


def write_relion_picks(
    picks: pd.DataFrame,
    micrograph_paths: Mapping[str, str],
    coord_dir: str | os.PathLike[str],
    coordinate_files: str | os.PathLike[str],
    suffix: str = SUFFIX,
) -> pd.DataFrame:
    """Write every micrograph's coordinate file under ``coord_dir``, the RELION 3.1 node
    ``coord_dir/coords_suffix<suffix>`` and the RELION 4/5 node ``coordinate_files``.

    ``picks`` has ``micrograph`` (key), ``x``, ``y``, ``score``; ``micrograph_paths`` maps every key
    (picked or not) to the micrograph path as the input named it. Returns the ``coordinate_files`` table.
    """
    coord_dir = Path(coord_dir)
    by_key = dict(tuple(picks.groupby("micrograph"))) if len(picks) else {}
    rows = []
    for key in sorted(micrograph_paths):
        name = str(micrograph_paths[key])
        target = coord_dir / coordinate_file_name(name, suffix)
        write_coordinate_file(by_key.get(key, picks.iloc[:0]), name, target)
        rows.append({"rlnMicrographName": name, "rlnMicrographCoordinates": str(target)})
    table = pd.DataFrame(rows, columns=["rlnMicrographName", "rlnMicrographCoordinates"])
    with atomic_path(coordinate_files) as tmp:
        starfile.write({"coordinate_files": table}, tmp, overwrite=True)
    # RELION 3.1's Extract takes the directory and the suffix from this file's path; its content is informative.
    write_text(coord_dir / f"coords_suffix{suffix}", f"{suffix}\n")
    return table


def _tables_with(path: Path, column: str) -> dict[str, pd.DataFrame]:
    data = cast(
        dict[str, Any],
        starfile.read(path, always_dict=True, parse_as_string=["rlnMicrographName", "rlnMicrographCoordinates"]),
    )
    return {name: df for name, df in data.items() if isinstance(df, pd.DataFrame) and column in df.columns}


def read_micrograph_names(path: str | os.PathLike[str]) -> list[str]:
    """The ``_rlnMicrographName`` entries of a RELION micrographs STAR (``micrographs_ctf.star``, a
    Select job's output): the ``micrographs`` block of RELION 3.1+, or the only table of older files."""
    path = Path(path)
    try:
        tables = _tables_with(path, "rlnMicrographName")
    except Exception as exc:
        raise InputError(f"{path}: cannot read this STAR micrograph list ({exc}).") from exc
    table = tables.get("micrographs", next(iter(tables.values()), None))
    if table is None or table.empty:
        raise InputError(
            f"{path}: no _rlnMicrographName entries. micrographs.path may be a RELION micrographs STAR "
            "(e.g. CtfFind/job003/micrographs_ctf.star), a glob or a .txt list."
        )
    return table["rlnMicrographName"].astype(str).tolist()


def read_coordinate_node(path: str | os.PathLike[str]) -> pd.DataFrame | None:
    """The ``coordinate_files`` table of a RELION 4/5 ManualPick/AutoPick node (``manualpick.star``,
    ``autopick.star``): ``rlnMicrographName, rlnMicrographCoordinates``; None for any other STAR."""
    tables = _tables_with(Path(path), "rlnMicrographCoordinates")
    if not tables:
        return None
    table = tables.get("coordinate_files", next(iter(tables.values())))
    return table[["rlnMicrographName", "rlnMicrographCoordinates"]].astype(str)
