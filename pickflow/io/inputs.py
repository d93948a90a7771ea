"""Finding the input micrographs and checking the labels before any job runs."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .coordinates import check_inside, read_labels
from .micrographs import SUFFIXES, Header, micrograph_key, read_header, read_shape
from .relion import read_micrograph_names

GLOB_CHARACTERS = "*?["
TOPAZ_HEADER = {"image_name", "x_coord", "y_coord"}


def _expand(pattern: str, base: Path, what: str) -> list[Path]:
    """Paths from a glob pattern, or from a ``.txt`` list file (one path per line, relative to it)."""
    path = base / pattern
    if path.is_dir():
        raise InputError(
            f"{path} is a directory: give a glob of the {what} in it (such as '{pattern.rstrip('/')}/*.mrc') "
            "or a .txt file that lists them."
        )
    if pattern.endswith(".txt") and path.is_file():
        paths = _listed(path, what)
    else:
        paths = sorted((Path(p) for p in glob.glob(str(path), recursive=True)), key=lambda p: p.parts)  # as Path order
    if not paths:
        raise InputError(
            f"'{pattern}' matched no {what} (relative to {base}). Fix the path or glob in config.yaml."
            + _glob_hint(pattern, path)
        )
    for found in paths:
        _check_readable_name(found)
    return paths


def _listed_in_star(pattern: str, base: Path) -> list[Path]:
    """The micrographs of a RELION micrographs STAR, relative to ``base`` (the RELION project directory)."""
    star = base / pattern
    paths = [base / name for name in read_micrograph_names(star)]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InputError(
            f"{star}: {len(missing)} listed micrographs do not exist: {', '.join(missing[:10])}. "
            "RELION names micrographs relative to its project directory: run pickflow there "
            "(snakemake -d PROJECT) so that these paths resolve."
        )
    return paths


def _listed(path: Path, what: str) -> list[Path]:
    """The paths a list file names (relative to it); an empty list or a missing entry is an error."""
    listed = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if not listed:
        raise InputError(f"{path}: the list is empty; it should name the {what}, one path per line.")
    paths = [(path.parent / entry) for entry in listed]
    for entry in paths:
        _check_link(entry)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InputError(f"{path}: {len(missing)} listed {what} do not exist: {', '.join(missing[:10])}.")
    return paths


def _glob_hint(pattern: str, path: Path) -> str:
    """Why a pattern that names an existing file matched nothing: its name holds glob characters."""
    if any(c in pattern for c in GLOB_CHARACTERS) and path.exists():
        return (
            f" '{pattern}' is the name of a file, but '*', '?' and '[' are glob characters: write '[' as '[[]' "
            "(and '*' as '[*]', '?' as '[?]'), or list the files in a .txt file."
        )
    return ""


def _check_readable_name(path: Path) -> None:
    """Refuse links that lead nowhere and names that Snakemake would read as wildcards."""
    _check_link(path)
    if "{" in str(path) or "}" in str(path):
        raise InputError(
            f"{path}: '{{' and '}}' in a file or folder name read as Snakemake wildcards. Rename it, or link it "
            "under a name without braces."
        )


def _check_link(path: Path) -> None:
    if not path.is_symlink() or os.path.exists(path):  # one stat for a good link, not a walk of every component
        return
    try:
        path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        reason = "a loop of links" if isinstance(exc, RuntimeError) or "loop" in str(exc).lower() else "no file"
        raise InputError(
            f"{path}: symbolic link to {os.readlink(path)}, which leads to {reason}. Fix or remove the link."
        ) from None


def discover_micrographs(pattern: str, base: Path = Path(".")) -> dict[str, Path]:
    """Map micrograph key -> path for a glob, a list file or a RELION micrographs STAR; keys must be unique."""
    found: dict[str, Path] = {}
    star_list = pattern.endswith(".star") and (base / pattern).is_file()
    for path in _listed_in_star(pattern, base) if star_list else _expand(pattern, base, "micrographs"):
        if path.suffix.lower() not in SUFFIXES:
            raise InputError(f"{path}: unsupported micrograph format; use one of {', '.join(SUFFIXES)}.")
        key = micrograph_key(path)
        if key in found:
            raise InputError(f"two micrographs share the name '{key}': {found[key]} and {path}. Rename one of them.")
        found[key] = path
    return found


def coordinate_files(pattern: str, base: Path = Path("."), fmt: str = "auto") -> list[Path]:
    """The coordinate files named by ``labels.coordinates`` (a file, glob or list file). A ``.txt``
    file whose first line is a Topaz header is a coordinate file (format topaz or auto), else a list."""
    path = base / pattern
    if fmt in ("auto", "topaz") and pattern.endswith(".txt") and path.is_file() and _is_topaz_table(path):
        return [path]
    return _expand(pattern, base, "coordinate files")


def _is_topaz_table(path: Path) -> bool:
    with open(path, errors="replace") as handle:
        first = next((line for line in handle if line.strip()), "")
    return TOPAZ_HEADER <= set(first.split())


def read_headers(
    micrographs: dict[str, Path], read: Callable[[Path], Header] = read_header
) -> tuple[dict[str, Header], dict[str, str]]:
    """Headers of the micrographs that pass the header check, and key -> what is wrong for the others
    (empty, truncated, unreadable header, several sections). Reads headers only, with ``read`` (such as
    :meth:`pickflow.workflow.fingerprint.MicrographCache.header`, which opens only the files that changed)."""
    headers, problems = {}, {}
    for key, path in micrographs.items():
        try:
            headers[key] = read(path)
        except InputError as exc:
            problems[key] = str(exc)
    return headers, problems


def screen_micrographs(problems: dict[str, str], on_error: str) -> dict[str, str]:
    """Apply ``micrographs.on_error`` to the micrographs that failed the header check.

    ``fail``: one error listing every bad file and why. ``skip``: return them (key -> reason), to be
    left out of the run with a warning.
    """
    if problems and on_error == "fail":
        listed = "\n  ".join(problems[key] for key in sorted(problems))
        raise InputError(
            f"{len(problems)} micrograph(s) cannot be used:\n  {listed}\n"
            "Fix or remove these files, or set micrographs.on_error: skip to leave unlabeled ones out of the run."
        )
    return dict(sorted(problems.items()))


def load_checked_labels(
    micrographs: dict[str, Path], coordinate_paths: list[Path], settings: dict | None = None
) -> pd.DataFrame:
    """Read all labels, match them to micrographs and check they lie inside their images.

    ``settings``: keyword arguments of :func:`pickflow.io.coordinates.read_labels` (:func:`pickflow.workflow.config.label_params`).
    """
    labels = read_labels(coordinate_paths, micrographs.keys(), **(settings or {}))
    shapes = {key: read_shape(micrographs[key]) for key in labels["micrograph"].unique()}
    check_inside(labels, shapes, ", ".join(str(p) for p in coordinate_paths[:3]))
    return labels


def test_count(n_labeled: int, test_fraction: float) -> int:
    """Number of test micrographs for a split: at least one when the fraction is positive."""
    if test_fraction <= 0:
        return 0
    return max(1, int(round(n_labeled * test_fraction)))


def check_folds_possible(n_labeled: int, test_fraction: float, folds: int) -> None:
    """Raise unless the training micrographs (labeled minus test) are at least ``cv.folds``."""
    n_train = n_labeled - test_count(n_labeled, test_fraction)
    if n_train < folds:
        raise InputError(
            f"cv.folds={folds} needs at least {folds} training micrographs, but there are {n_train} "
            f"({n_labeled} labeled minus {n_labeled - n_train} for the test split). Lower cv.folds, label more "
            "micrographs or lower split.test_fraction."
        )


def no_labels() -> pd.DataFrame:
    """The labels table of a run without labels (``labels.coordinates: null``)."""
    return pd.DataFrame({"micrograph": pd.Series(dtype=str), "x": pd.Series(dtype=float), "y": pd.Series(dtype=float)})


def check_split_possible(n_labeled: int, test_fraction: float) -> None:
    """Raise unless the labeled micrographs leave at least one for training after the test split."""
    n_test = test_count(n_labeled, test_fraction)
    if n_labeled - n_test < 1:
        raise InputError(
            f"only {n_labeled} labeled micrograph(s), but split.test_fraction={test_fraction} needs {n_test} for testing "
            "and at least one more for training. Label more micrographs or lower split.test_fraction."
        )
