"""Turning score maps into particle coordinates: exact greedy non-maximum suppression, vectorized,
and blob-centroid extraction.

``pick.method: auto`` is NMS at the candidate threshold for every model family. Every pixel above
that threshold is then a candidate or within the NMS radius of one, so each particle whose centre
scores above it has a scored candidate nearby and the picking threshold, not the extractor, decides
recall. Blobs at logit 0 (the unet's former default) leave no candidate at all on particles whose
peak is below 0.

Greedy NMS (Topaz's definition): visit pixels by decreasing score (ties: row-major order), stop at
the threshold, accept a pixel unless an accepted pixel lies within ``radius``. Here it runs in
rounds over whole arrays: every still-undecided pixel that outranks all undecided pixels within
the radius is exactly a pixel greedy NMS accepts, so each round accepts all of them at once and
removes their disks. A disk maximum filter is computed as the maximum over a few rectangles,
each a pair of 1-D running-maximum passes (cost independent of the rectangle size).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import cast

import numpy as np
from scipy import ndimage


@lru_cache(maxsize=64)
def _disk_rectangles(radius: float) -> tuple[tuple[int, int], ...]:
    """Half-heights/half-widths of rectangles whose union is the integer disk of ``radius``."""
    r = int(math.floor(radius))
    half_widths = [int(math.floor(math.sqrt(max(radius**2 - dy**2, 0.0)))) for dy in range(r + 1)]
    rects = []
    for w in sorted(set(half_widths)):
        h = max(dy for dy, hw in enumerate(half_widths) if hw >= w)
        rects.append((h, w))
    return tuple(rects)


def disk_maximum(values: np.ndarray, radius: float) -> np.ndarray:
    """Maximum of ``values`` over the disk of ``radius`` around each pixel (outside = -inf)."""
    out = np.full(values.shape, -np.inf, dtype=values.dtype)
    for h, w in _disk_rectangles(radius):
        rows = ndimage.maximum_filter1d(values, 2 * h + 1, axis=0, mode="constant", cval=-np.inf)
        np.maximum(out, ndimage.maximum_filter1d(rows, 2 * w + 1, axis=1, mode="constant", cval=-np.inf), out=out)
    return out


def candidate_mask(score: np.ndarray, threshold: float, edge: int = 0) -> np.ndarray:
    """Pixels above ``threshold`` and at least ``edge`` pixels from the border."""
    mask = score > threshold
    if edge > 0:
        mask[:edge] = mask[-edge:] = False
        mask[:, :edge] = mask[:, -edge:] = False
    return mask


def disk_offsets(radius: float) -> tuple[np.ndarray, np.ndarray]:
    """(dy, dx) offsets of the integer disk of ``radius``."""
    r = int(math.floor(radius))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    inside = dy**2 + dx**2 <= radius**2
    return dy[inside], dx[inside]


def stamp(mask: np.ndarray, ys: np.ndarray, xs: np.ndarray, radius: float, value: bool = False) -> None:
    """Set ``mask`` to ``value`` on the disks of ``radius`` around the points (vectorized)."""
    dy, dx = disk_offsets(radius)
    yy, xx = (ys[:, None] + dy).ravel(), (xs[:, None] + dx).ravel()
    inside = (yy >= 0) & (yy < mask.shape[0]) & (xx >= 0) & (xx < mask.shape[1])
    mask[yy[inside], xx[inside]] = value


def nms(
    score: np.ndarray, radius: float, threshold: float = -np.inf, edge: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy non-maximum suppression; returns ``(y, x, score)`` of accepted pixels, best first."""
    active = candidate_mask(score, threshold, edge)
    flat = np.flatnonzero(active)
    if flat.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=score.dtype)
    # Priority: higher score first, ties by row-major index; unique ranks, so maxima are unique.
    # float32 holds the ranks exactly up to 2**24 candidates; beyond that use float64.
    dtype = np.float32 if flat.size < 2**24 else np.float64
    order = np.lexsort((flat, -score.ravel()[flat]))
    priority = np.full(score.shape, -np.inf, dtype=dtype)
    priority.ravel()[flat[order]] = -np.arange(flat.size, dtype=dtype)
    found_y, found_x = [], []
    pad = int(math.floor(radius))
    while True:
        rows, cols = np.nonzero(active.any(axis=1))[0], np.nonzero(active.any(axis=0))[0]
        if rows.size == 0:
            break
        y0, y1 = max(rows[0] - pad, 0), min(rows[-1] + pad + 1, score.shape[0])
        x0, x1 = max(cols[0] - pad, 0), min(cols[-1] + pad + 1, score.shape[1])
        window = active[y0:y1, x0:x1]
        current = np.where(window, priority[y0:y1, x0:x1], -np.inf).astype(dtype)
        wy, wx = np.nonzero(window & (current == disk_maximum(current, radius)))
        wy, wx = wy + y0, wx + x0
        found_y.append(wy)
        found_x.append(wx)
        stamp(active, wy, wx, radius)
    ys, xs = np.concatenate(found_y), np.concatenate(found_x)
    best_first = np.argsort(-priority[ys, xs], kind="stable")
    ys, xs = ys[best_first], xs[best_first]
    return ys, xs, score[ys, xs]


def resolve_method(method: str) -> str:
    """``pick.method`` with ``auto`` resolved: NMS for every family (see the module docstring)."""
    return "nms" if method == "auto" else method


def nms_picks(score: np.ndarray, radius: float, stride: int, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """NMS of a score map computed every ``stride`` pixels: the picks' (y, x) in pixels of the scored image
    (``radius`` too is in those pixels), and their scores, best first."""
    ys, xs, scores = nms(score, radius / stride, threshold)
    return np.stack([ys * stride, xs * stride], axis=1).astype(float), scores


def extract_candidates(score: np.ndarray, params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate (y, x, score) of a score map on the stride grid, in grid units, by ``params["method"]``
    (the settings of :func:`pickflow.workflow.config.pick_params`)."""
    s = params["stride"]
    edge = -(-params["edge"] // s)
    if resolve_method(params["method"]) == "blob":
        return blob_centroids(score, params["blob_threshold"], edge)
    return nms(score, params["nms_radius"] / s, params["candidate_threshold"], edge)


def blob_centroids(score: np.ndarray, threshold: float, edge: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centroid and peak score of each connected region above ``threshold`` (best first)."""
    mask = candidate_mask(score, threshold, edge)
    labels, count = cast(tuple[np.ndarray, int], ndimage.label(mask))
    if count == 0:
        empty = np.empty(0)
        return empty, empty, empty.astype(score.dtype)
    index = np.arange(1, count + 1)
    centres = np.asarray(ndimage.center_of_mass(mask, labels, index)).reshape(-1, 2)
    peaks = np.asarray(ndimage.maximum(score, labels, index))
    order = np.argsort(-peaks, kind="stable")
    return centres[order, 0], centres[order, 1], peaks[order].astype(score.dtype)
