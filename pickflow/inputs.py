"""Finding the input micrographs and checking the labels before any job runs."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import pandas as pd

from .coordinates import check_inside, read_labels
from .errors import InputError
from .micrographs import SUFFIXES, Header, micrograph_key, read_header, read_shape


def _expand(pattern: str, base: Path, what: str) -> list[Path]:
    """Paths from a glob pattern, or from a ``.txt`` list file (one path per line, relative to it)."""
    path = base / pattern
    if pattern.endswith(".txt") and path.is_file():
        listed = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
        paths = [(path.parent / entry) for entry in listed]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise InputError(f"{path}: {len(missing)} listed {what} do not exist: {', '.join(missing[:10])}.")
        return paths
    paths = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
    if not paths:
        raise InputError(f"'{pattern}' matched no {what} (relative to {base}). Fix the path or glob in config.yaml.")
    return paths


def discover_micrographs(pattern: str, base: Path = Path(".")) -> dict[str, Path]:
    """Map micrograph key -> path for a glob or list file; keys must be unique."""
    found: dict[str, Path] = {}
    for path in _expand(pattern, base, "micrographs"):
        if path.suffix.lower() not in SUFFIXES:
            raise InputError(f"{path}: unsupported micrograph format; use one of {', '.join(SUFFIXES)}.")
        key = micrograph_key(path)
        if key in found:
            raise InputError(f"two micrographs share the name '{key}': {found[key]} and {path}. Rename one of them.")
        found[key] = path
    return found


def coordinate_files(pattern: str, base: Path = Path(".")) -> list[Path]:
    """The coordinate files named by ``labels.coordinates`` (a file, glob or list file)."""
    return _expand(pattern, base, "coordinate files")


def read_headers(micrographs: dict[str, Path]) -> tuple[dict[str, Header], dict[str, str]]:
    """Headers of the micrographs that pass the header check, and key -> what is wrong for the others
    (empty, truncated, unreadable header, several sections). Reads headers only."""
    headers, problems = {}, {}
    for key, path in micrographs.items():
        try:
            headers[key] = read_header(path)
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


def load_checked_labels(micrographs: dict[str, Path], coordinate_paths: list[Path], fmt: str = "auto") -> pd.DataFrame:
    """Read all labels, match them to micrographs and check they lie inside their images."""
    labels = read_labels(coordinate_paths, micrographs.keys(), fmt)
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


def check_split_possible(n_labeled: int, test_fraction: float) -> None:
    """Raise unless the labeled micrographs leave at least one for training after the test split."""
    n_test = test_count(n_labeled, test_fraction)
    if n_labeled - n_test < 1:
        raise InputError(
            f"only {n_labeled} labeled micrograph(s), but split.test_fraction={test_fraction} needs {n_test} for testing "
            "and at least one more for training. Label more micrographs or lower split.test_fraction."
        )


def recorded_identity(meta_path: str | Path) -> str | None:
    """The preprocessing identity recorded in a preprocessed micrograph's .json, None when absent."""
    try:
        return json.loads(Path(meta_path).read_text()).get("identity")
    except (OSError, ValueError):
        return None
