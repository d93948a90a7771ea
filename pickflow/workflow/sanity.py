"""Input that is legal but most likely a mistake: each check returns a warning that says how to fix it,
or None. The workflow logs them when it is parsed, before any job runs."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree  # pyright: ignore[reportAttributeAccessIssue]  (exported; scipy's stubs miss it)

from ..io.micrographs import Header
from .config import preprocessed_pixel_size

BINNING_FACTORS = (8, 4, 2)
MIN_LABELS_FOR_BINNING_CHECK = 10
PIXEL_SIZE_TOLERANCE = 0.02  # relative


def particle_size_warning(config: dict, headers: dict[str, Header]) -> str | None:
    """The particle is larger than the smallest micrograph, or smaller than one preprocessed pixel."""
    diameter = config["particle_diameter"]
    pixel_size = config["micrographs"]["pixel_size"]
    diameter_px = diameter / pixel_size
    smallest = min(min(h.shape) for h in headers.values())
    if diameter_px > smallest:
        return (
            f"particle_diameter {diameter} Å is {diameter_px:.0f} pixels at micrographs.pixel_size {pixel_size} Å, "
            f"larger than the smallest micrograph ({smallest} pixels across): particle_diameter is in Å, not "
            "pixels; check it and micrographs.pixel_size"
        )
    preprocessed = preprocessed_pixel_size(config)
    if diameter < preprocessed:
        return (
            f"particle_diameter {diameter} Å is smaller than one preprocessed pixel ({preprocessed:g} Å): "
            "lower preprocess.downsample or preprocess.target_pixel_size, or check particle_diameter (Å)"
        )
    return None


def duplicate_labels_warning(labels: pd.DataFrame, tolerance_px: float = 1.0) -> str | None:
    """Labels within ``tolerance_px`` of an earlier label of the same micrograph."""
    duplicates = []
    for key, group in labels.groupby("micrograph", sort=True):
        points = group[["x", "y"]].to_numpy(float)
        pairs = cKDTree(points).query_pairs(tolerance_px, output_type="ndarray")
        duplicates += [(key, *points[j]) for j in sorted(set(pairs[:, 1].tolist()))]
    if not duplicates:
        return None
    examples = ", ".join(f"{key} ({x:.1f}, {y:.1f})" for key, x, y in duplicates[:3])
    return (
        f"{len(duplicates)} labels repeat another label of the same micrograph (within {tolerance_px:g} px), "
        f"e.g. {examples}: they count twice, raise the labeled fraction and can flip the loss to PN. "
        "Remove the duplicates (a coordinate file listed twice, or picks merged from two jobs?)"
    )


def binned_coordinates_warning(labels: pd.DataFrame, headers: dict[str, Header]) -> str | None:
    """Every label lies in the first 1/k of its micrograph in x and y: picked on k-times binned images."""
    if len(labels) < MIN_LABELS_FOR_BINNING_CHECK:
        return None
    ny = labels["micrograph"].map(lambda k: headers[cast(str, k)].shape[0]).to_numpy(float)
    nx = labels["micrograph"].map(lambda k: headers[cast(str, k)].shape[1]).to_numpy(float)
    x, y = labels["x"].to_numpy(float), labels["y"].to_numpy(float)
    for k in BINNING_FACTORS:
        if np.all(x < nx / k) and np.all(y < ny / k):
            return (
                f"all {len(labels)} labels lie in the first 1/{k} of their micrographs (x < width/{k}, "
                f"y < height/{k}): were they picked on {k}x binned images? Coordinates must be in pixels of the "
                f"full-size micrographs; multiply them by {k}"
            )
    return None


def pixel_size_warning(pixel_size: float, headers: dict[str, Header]) -> str | None:
    """MRC headers whose voxel size differs from ``micrographs.pixel_size`` by more than 2 %."""
    differing = {
        key: h.pixel_size
        for key, h in sorted(headers.items())
        if h.pixel_size is not None and abs(h.pixel_size - pixel_size) > PIXEL_SIZE_TOLERANCE * pixel_size
    }
    if not differing:
        return None
    key, header_size = next(iter(differing.items()))
    return (
        f"micrographs.pixel_size is {pixel_size} Å but the MRC header of {len(differing)} micrograph(s) says "
        f"otherwise, e.g. {key}: {header_size:.4g} Å. Check micrographs.pixel_size (every distance in Å and the "
        "downsampling follow from it), or fix the headers"
    )


def input_warnings(config: dict, labels: pd.DataFrame, headers: dict[str, Header]) -> list[str]:
    """Every warning that applies to this run (``headers`` of all micrographs in the run)."""
    found = [
        particle_size_warning(config, headers),
        duplicate_labels_warning(labels),
        binned_coordinates_warning(labels, headers),
        pixel_size_warning(config["micrographs"]["pixel_size"], headers),
    ]
    return [warning for warning in found if warning]
