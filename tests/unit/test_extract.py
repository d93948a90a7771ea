"""Score maps to coordinates: vectorized NMS == greedy reference, disk maxima, blob centroids."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pickflow.picking.extract import (
    blob_centroids,
    candidate_mask,
    disk_maximum,
    disk_offsets,
    extract_candidates,
    nms,
    resolve_method,
)

RADII = (1, 1.5, 2, 3, 4.7, 7)


def nms_reference(
    score: np.ndarray, radius: float, threshold: float = -np.inf, edge: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The test oracle: plain greedy NMS, one pixel at a time (slow), that ``nms`` must equal."""
    mask = candidate_mask(score, threshold, edge)
    flat = np.flatnonzero(mask)
    order = flat[np.lexsort((flat, -score.ravel()[flat]))]
    suppressed = np.zeros(score.shape, dtype=bool)
    dy, dx = disk_offsets(radius)
    keep = []
    for index in order:
        y, x = divmod(int(index), score.shape[1])
        if suppressed[y, x]:
            continue
        keep.append((y, x))
        yy, xx = y + dy, x + dx
        ok = (yy >= 0) & (yy < score.shape[0]) & (xx >= 0) & (xx < score.shape[1])
        suppressed[yy[ok], xx[ok]] = True
    ys = np.array([k[0] for k in keep], dtype=np.int64)
    xs = np.array([k[1] for k in keep], dtype=np.int64)
    return ys, xs, score[ys, xs]


def _disk_footprint(radius):
    r = int(np.floor(radius))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    return dy**2 + dx**2 <= radius**2


def _random_cases(n=40, seed=0):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        shape = tuple(int(s) for s in rng.integers(5, 61, size=2))
        score = rng.normal(size=shape)
        if i % 3 == 0:
            score = np.round(score, 1)  # many ties
        if i % 4 == 1:
            score = score.astype(np.float32)
        radius = RADII[i % len(RADII)]
        threshold = [-np.inf, 0.0, 0.8, -0.5][i % 4]
        edge = [0, 0, 2, 5][(i // 2) % 4]
        cases.append((score, radius, threshold, edge))
    return cases


def test_nms_equals_reference_on_random_maps():
    cases = _random_cases()
    assert len(cases) >= 30
    n_picks = 0
    for score, radius, threshold, edge in cases:
        ys, xs, ss = nms(score, radius, threshold, edge)
        ry, rx, rs = nms_reference(score, radius, threshold, edge)
        np.testing.assert_array_equal(ys, ry, err_msg=f"r={radius} t={threshold} e={edge} shape={score.shape}")
        np.testing.assert_array_equal(xs, rx)
        np.testing.assert_array_equal(ss, rs)
        assert ss.dtype == score.dtype
        n_picks += len(ys)
    assert n_picks > 100  # the comparison is not vacuous


def test_nms_reference_is_greedy():
    """Check the reference itself on a hand-made map."""
    score = np.zeros((5, 9))
    score[2, 2] = 5.0
    score[2, 4] = 4.0  # within radius 2 of (2, 2): suppressed
    score[2, 5] = 3.0  # 3 away from (2, 2): kept, although (2, 4) (suppressed) is next to it
    score[0, 8] = 3.0  # ties with (2, 5); earlier in row-major order, so it is visited first
    ys, xs, ss = nms_reference(score, 2, threshold=0.5)
    assert list(zip(ys.tolist(), xs.tolist(), strict=True)) == [(2, 2), (0, 8), (2, 5)]
    np.testing.assert_array_equal(ss, [5.0, 3.0, 3.0])
    ys2, xs2, _ = nms(score, 2, threshold=0.5)
    np.testing.assert_array_equal(ys2, ys)
    np.testing.assert_array_equal(xs2, xs)


def test_nms_picks_respect_radius_and_threshold(rng):
    score = rng.random((40, 50))
    radius = 4.7
    ys, xs, ss = nms(score, radius, threshold=0.3)
    assert (ss > 0.3).all()
    assert (np.diff(ss) <= 0).all()  # best first
    d2 = (ys[:, None] - ys[None, :]) ** 2 + (xs[:, None] - xs[None, :]) ** 2
    np.fill_diagonal(d2, 10**6)
    assert d2.min() > radius**2


def test_nms_empty():
    ys, xs, ss = nms(np.zeros((6, 6)), 2, threshold=1.0)
    assert len(ys) == len(xs) == len(ss) == 0


@pytest.mark.parametrize("radius", RADII)
def test_disk_maximum_equals_scipy(rng, radius):
    values = rng.normal(size=(23, 31))
    expected = ndimage.maximum_filter(values, footprint=_disk_footprint(radius), mode="constant", cval=-np.inf)
    np.testing.assert_array_equal(disk_maximum(values, radius), expected)
    values32 = values.astype(np.float32)
    np.testing.assert_array_equal(
        disk_maximum(values32, radius),
        ndimage.maximum_filter(values32, footprint=_disk_footprint(radius), mode="constant", cval=-np.inf),
    )


def test_disk_offsets_match_footprint():
    for radius in RADII:
        dy, dx = disk_offsets(radius)
        r = int(np.floor(radius))
        fp = _disk_footprint(radius)
        np.testing.assert_array_equal(np.sort(dy * 100 + dx), np.sort(np.argwhere(fp) @ [100, 1] - r * 101))


def test_blob_centroids_two_discs():
    score = np.zeros((40, 50))
    yy, xx = np.mgrid[0:40, 0:50]
    disc_a = (yy - 10) ** 2 + (xx - 12) ** 2 <= 9
    disc_b = (yy - 28) ** 2 + (xx - 35) ** 2 <= 16
    score[disc_a] = 0.6
    score[10, 12] = 0.8
    score[disc_b] = 0.7
    score[28, 35] = 0.95
    ys, xs, peaks = blob_centroids(score, threshold=0.5)
    np.testing.assert_allclose(ys, [28, 10], atol=0.01)
    np.testing.assert_allclose(xs, [35, 12], atol=0.01)
    np.testing.assert_allclose(peaks, [0.95, 0.8])


def test_blob_centroids_empty():
    ys, xs, peaks = blob_centroids(np.zeros((5, 5)), threshold=0.1)
    assert ys.size == xs.size == peaks.size == 0


def test_edge_exclusion_removes_border_picks(rng):
    score = rng.random((30, 40))
    edge = 6
    ys, xs, _ = nms(score, 2, edge=edge)
    assert ys.min() >= edge and ys.max() < 30 - edge
    assert xs.min() >= edge and xs.max() < 40 - edge
    all_ys, all_xs, _ = nms(score, 2)
    border = (all_ys < edge) | (all_ys >= 30 - edge) | (all_xs < edge) | (all_xs >= 40 - edge)
    assert border.any()
    # blobs touching the border are cut the same way
    blob = np.zeros((20, 20))
    blob[0:3, 0:3] = 1.0
    blob[10, 10] = 1.0
    by, bx, _ = blob_centroids(blob, 0.5, edge=4)
    np.testing.assert_allclose(np.c_[by, bx], [[10, 10]])


def test_candidate_mask():
    score = np.arange(36.0).reshape(6, 6)
    mask = candidate_mask(score, 10.0, edge=1)
    expected = np.zeros((6, 6), dtype=bool)
    expected[1:5, 1:5] = True
    expected &= score > 10
    np.testing.assert_array_equal(mask, expected)


def _particles_map(heights: np.ndarray, spacing: int = 40, sigma: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """A score map with one Gaussian bump per particle on a background logit of -8: (map, centres (y, x))."""
    side = int(np.ceil(np.sqrt(len(heights))))
    centres = np.array(
        [(spacing // 2 + spacing * (i // side), spacing // 2 + spacing * (i % side)) for i in range(len(heights))]
    )
    yy, xx = np.mgrid[: spacing * side, : spacing * side]
    score = np.full(yy.shape, -8.0)
    for (cy, cx), height in zip(centres, heights, strict=True):
        bump = -8.0 + (height + 8.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
        np.maximum(score, bump, out=score)
    return score, centres


def test_auto_extraction_gives_a_candidate_on_every_particle_whatever_its_peak():
    heights = np.linspace(-5.0, 6.0, 16)  # peaks from well below logit 0 to well above
    score, centres = _particles_map(heights)
    params = {"method": "auto", "stride": 1, "edge": 0, "nms_radius": 8.0, "candidate_threshold": -6.0}
    assert resolve_method("auto") == "nms"
    ys, xs, sc = extract_candidates(score, {**params, "blob_threshold": 0.0})
    found = np.column_stack([ys, xs])
    for (cy, cx), height in zip(centres, heights, strict=True):
        nearest = np.argmin(np.hypot(found[:, 0] - cy, found[:, 1] - cx))
        assert (found[nearest] == (cy, cx)).all() and sc[nearest] == pytest.approx(height)
    assert len(sc) == len(heights)  # one candidate per particle, none on the background below the threshold
    # blobs at logit 0 (the unet's former default) leave the particles peaking below 0 without any candidate
    by, _, _ = extract_candidates(score, {**params, "method": "blob", "blob_threshold": 0.0})
    assert len(by) == int(np.count_nonzero(heights > 0)) < len(heights)
