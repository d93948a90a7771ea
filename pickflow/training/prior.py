"""The class prior pi from the expected number of particles per micrograph (2-D disk counts)."""

from __future__ import annotations

import math

import numpy as np


def pixels_in_disk(radius: float) -> int:
    """Integer grid points (dx, dy) with dx^2 + dy^2 <= r^2 (29 for r = 3; Topaz 0.3.x counts 203)."""
    r = int(math.floor(radius))
    d = np.arange(-r, r + 1)
    return int(np.count_nonzero(d[:, None] ** 2 + d[None, :] ** 2 <= radius**2))


def class_prior(expected_per_micrograph: float, radius: float, n_micrographs: int, total_pixels: int) -> float:
    """pi = pixels per particle * expected particles * micrographs / total pixels."""
    return pixels_in_disk(radius) * expected_per_micrograph * n_micrographs / total_pixels


def observed_prior(n_labels: int, radius: float, total_pixels: int) -> float:
    """p_obs = labeled particles * pixels per particle / total pixels."""
    return n_labels * pixels_in_disk(radius) / total_pixels


def largest_expected(radius: float, n_micrographs: int, total_pixels: int) -> float:
    """The expected particles per micrograph at which pi reaches 1 (every pixel positive)."""
    return total_pixels / (pixels_in_disk(radius) * n_micrographs)
