"""Minibatches for training: receptive-field crops (resnet/conv family) or patches with their
label windows (unet family), from in-memory training micrographs, with rotation and flips.

Crops: a fraction of each minibatch are crops centred on labeled-positive pixels (drawn uniformly
from all positive pixels pooled over micrographs); the rest are centred on a uniformly chosen
pixel of a uniformly chosen micrograph (for losses that need true "unlabeled" crops, positive
pixels are re-drawn). Crops are cut larger, then rotated by a uniform angle and flipped in one
bilinear resampling on the whole batch.

Patches: a uniformly chosen window of a uniformly chosen micrograph, cut from the image and its
label mask alike and turned by a multiple of 90 degrees and maybe flipped (exact, no
interpolation, so every label pixel stays on its image pixel).

All randomness comes from the generator passed in, so a given seed and epoch always give the
same batches.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import TrainingError


class CropSampler:
    """Draws ``(crops, is_positive)`` minibatches from in-memory micrographs."""

    def __init__(
        self,
        images: list[np.ndarray],
        positives: list[np.ndarray],
        crop: int,
        positive_fraction: float,
        minibatch: int,
        exclude_positives: bool,
    ) -> None:
        self.crop = crop
        self.big = int(math.ceil(crop * math.sqrt(2)))
        self.big += (self.big - crop) % 2  # same parity: the unrotated crop is exact, no interpolation
        half = self.big // 2
        self.windows = [
            sliding_window_view(np.pad(img.astype(np.float32), half), (self.big, self.big)) for img in images
        ]
        self.positives = positives
        self.shapes = np.array([img.shape for img in images])
        mic, ys, xs = zip(
            *[(np.full(len(yx[0]), i), *yx) for i, yx in enumerate(np.nonzero(p) for p in positives)], strict=True
        )
        self.pos_mic, self.pos_y, self.pos_x = np.concatenate(mic), np.concatenate(ys), np.concatenate(xs)
        if self.pos_mic.size == 0:
            raise ValueError("no labeled positive pixel in any training micrograph")
        self.n_pos = int(round(minibatch * positive_fraction))
        self.n_unl = minibatch - self.n_pos
        self.positive_fraction = self.n_pos / minibatch
        self.exclude_positives = exclude_positives
        if exclude_positives and all(p.all() for p in positives):
            raise TrainingError(
                "every pixel of the training micrographs is labeled positive, so no unlabeled crop can be drawn: "
                "lower train.label_radius or downsample less (preprocess.downsample / target_pixel_size)"
            )

    def _unlabeled(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mic, ys, xs = self._uniform(rng, n)
        redraw = np.flatnonzero(self._on_positive(mic, ys, xs)) if self.exclude_positives else np.empty(0, int)
        while redraw.size:  # ends: the constructor checked that unlabeled pixels exist
            mic[redraw], ys[redraw], xs[redraw] = self._uniform(rng, redraw.size)
            redraw = redraw[self._on_positive(mic[redraw], ys[redraw], xs[redraw])]
        return mic, ys, xs

    def _uniform(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` pixels: a uniformly chosen micrograph, then a uniformly chosen pixel of it."""
        mic = rng.integers(0, len(self.windows), n)
        ys = np.floor(rng.random(n) * self.shapes[mic, 0]).astype(np.int64)
        xs = np.floor(rng.random(n) * self.shapes[mic, 1]).astype(np.int64)
        return mic, ys, xs

    def _on_positive(self, mic: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        bad = np.zeros(mic.size, dtype=bool)
        for m in np.unique(mic):
            rows = np.flatnonzero(mic == m)
            bad[rows] = self.positives[m][ys[rows], xs[rows]]
        return bad

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """One minibatch: crops (B, 1, crop, crop) float32 and labels (B,) bool (positives first)."""
        pick = rng.integers(0, self.pos_mic.size, self.n_pos)
        u_mic, u_y, u_x = self._unlabeled(rng, self.n_unl)
        mic = np.concatenate([self.pos_mic[pick], u_mic])
        ys = np.concatenate([self.pos_y[pick], u_y])
        xs = np.concatenate([self.pos_x[pick], u_x])
        patches = np.empty((mic.size, self.big, self.big), dtype=np.float32)
        for m in np.unique(mic):
            rows = np.flatnonzero(mic == m)
            patches[rows] = self.windows[m][ys[rows], xs[rows]]
        crops = self._rotate_flip(torch.from_numpy(patches)[:, None], rng)
        labels = torch.zeros(mic.size, dtype=torch.bool)
        labels[: self.n_pos] = True
        return crops, labels

    def _rotate_flip(self, patches: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        n = patches.shape[0]
        angle = rng.random(n) * 2 * math.pi
        flip = np.where(rng.random((n, 2)) < 0.5, -1.0, 1.0)
        cos, sin = np.cos(angle), np.sin(angle)
        shrink = self.crop / self.big
        theta = np.zeros((n, 2, 3), dtype=np.float32)
        theta[:, 0, 0], theta[:, 0, 1] = cos * flip[:, 0] * shrink, -sin * flip[:, 1] * shrink
        theta[:, 1, 0], theta[:, 1, 1] = sin * flip[:, 0] * shrink, cos * flip[:, 1] * shrink
        # F.affine_grid's grid (align_corners=False) by broadcasting: its batched matmul is slow on CPU.
        x = (2 * np.arange(self.crop, dtype=np.float32) + 1) / self.crop - 1
        t = theta[:, :, :, None, None]  # (n, 2, 3, 1, 1)
        grid = t[:, :, 0] * x[None, :] + t[:, :, 1] * x[:, None] + t[:, :, 2]  # (n, 2, crop, crop)
        grid = torch.from_numpy(np.ascontiguousarray(grid.transpose(0, 2, 3, 1)))
        return F.grid_sample(patches, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class PatchSampler:
    """Draws ``(patches, label_windows)`` minibatches: (B, 1, P, P) float32 and (B, P, P) bool."""

    def __init__(self, images: list[np.ndarray], positives: list[np.ndarray], patch: int, minibatch: int) -> None:
        self.patch, self.minibatch = patch, minibatch
        self.windows, self.labels = [], []
        for image, mask in zip(images, positives, strict=True):
            grow = [(0, max(0, patch - n)) for n in image.shape]  # micrographs smaller than a patch: pad
            self.windows.append(sliding_window_view(np.pad(image.astype(np.float32), grow), (patch, patch)))
            self.labels.append(sliding_window_view(np.pad(mask, grow), (patch, patch)))
        self.corners = np.array([w.shape[:2] for w in self.windows])  # patch corners per micrograph (rows, cols)
        self.positive_fraction = sum(int(m.sum()) for m in positives) / sum(m.size for m in positives)
        if self.positive_fraction == 0:
            raise ValueError("no labeled positive pixel in any training micrograph")

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        mic = rng.integers(0, len(self.windows), self.minibatch)
        limits = self.corners[mic]
        ys = np.floor(rng.random(self.minibatch) * limits[:, 0]).astype(np.int64)
        xs = np.floor(rng.random(self.minibatch) * limits[:, 1]).astype(np.int64)
        turns = rng.integers(0, 4, self.minibatch)
        flips = rng.random(self.minibatch) < 0.5
        patches = np.empty((self.minibatch, self.patch, self.patch), dtype=np.float32)
        labels = np.empty((self.minibatch, self.patch, self.patch), dtype=bool)
        for i, (m, y, x, k, flip) in enumerate(zip(mic, ys, xs, turns, flips, strict=True)):  # over the minibatch
            image, label = np.rot90(self.windows[m][y, x], k), np.rot90(self.labels[m][y, x], k)
            patches[i], labels[i] = (image[:, ::-1], label[:, ::-1]) if flip else (image, label)
        return torch.from_numpy(patches)[:, None], torch.from_numpy(labels)
