"""Micrograph preprocessing: Fourier-crop downsampling, optional lowpass, normalization.

Normalization ``gmm`` follows Topaz's per-micrograph model (a two-component Gaussian mixture
with shared variance and a Beta(alpha, beta) prior on the dominant component's weight, fitted
on a pixel sample from 12 initial splits); the image is standardized with the dominant
component's mean and the shared standard deviation. ``affine`` is plain zero mean / unit
variance; ``none`` leaves the values as they are.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import asdict, dataclass

import numpy as np

GMM_INITIAL_WEIGHTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)


@dataclass(frozen=True)
class GmmFit:
    """Result of the two-component fit: dominant mean, shared std, dominant weight, log posterior."""

    mu: float
    std: float
    pi: float
    logp: float


def output_shape(
    shape: tuple[int, int], pixel_size: float, downsample: int | None, target_pixel_size: float | None
) -> tuple[int, int]:
    """Shape after downsampling by an integer factor, or to a target pixel size (Å)."""
    ny, nx = shape
    if target_pixel_size:
        factor = target_pixel_size / pixel_size
    else:
        factor = float(downsample or 1)
    if factor < 1:
        raise ValueError("downsampling factor below 1 would upsample; use a coarser target pixel size")
    return max(1, int(ny / factor)), max(1, int(nx / factor))


def fourier_resample(image: np.ndarray, shape: tuple[int, int], lowpass_cutoff_px: float | None = None) -> np.ndarray:
    """Fourier-crop ``image`` to ``shape`` and optionally apply a Gaussian lowpass in the same pass.

    The mean is preserved (the crop is scaled by the ratio of pixel counts). The lowpass has
    half amplitude at ``lowpass_cutoff_px`` cycles/pixel of the *output* grid, i.e. a period of
    ``1/cutoff`` output pixels.
    """
    big_y, big_x = image.shape
    m, n = shape
    spectrum = np.fft.rfft2(image.astype(np.float64, copy=False))
    if (m, n) != (big_y, big_x):
        top = (m + 1) // 2
        rows = np.concatenate([spectrum[:top], spectrum[big_y - m // 2 :]], axis=0) if m // 2 else spectrum[:top]
        spectrum = rows[:, : n // 2 + 1] * (m * n) / (big_y * big_x)
    if lowpass_cutoff_px:
        fy = np.fft.fftfreq(m)[:, None]
        fx = np.fft.rfftfreq(n)[None, :]
        spectrum = spectrum * np.exp(-math.log(2.0) * (fy**2 + fx**2) / lowpass_cutoff_px**2)
    return np.fft.irfft2(spectrum, s=(m, n)).astype(np.float32)


def fit_gmm(
    image: np.ndarray,
    rng: np.random.Generator,
    sample: int = 10,
    niters: int = 100,
    alpha: float = 900.0,
    beta: float = 1.0,
    tol: float = 1e-3,
    bins: int = 4096,
) -> GmmFit:
    """Fit the two-component, shared-variance mixture on a ``1/sample`` pixel subsample.

    The sample is binned into a fine histogram (``bins`` bins) and EM runs on the weighted bin
    centres, for all initial splits at once; each initialization stops when its log posterior
    improves by at most ``tol``. The single-Gaussian model (weight 1) is also a candidate, and
    the best log posterior wins.
    """
    pixels = image.ravel().astype(np.float64)
    n = max(2, int(round(pixels.size / sample)))
    x_sample = rng.choice(pixels, size=n, replace=False) if n < pixels.size else pixels
    scale = pixels.size / n
    counts, edges = np.histogram(x_sample, bins=bins)
    keep = counts > 0
    x, w = ((edges[:-1] + edges[1:]) / 2)[keep], counts[keep].astype(np.float64)

    def log_prior(pi: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(alpha == 1, 0.0, (alpha - 1) * np.log(pi))
            b = np.where(beta == 1, 0.0, (beta - 1) * np.log1p(-pi))
        return a + b

    # Single Gaussian (initial weight 1): closed form.
    mean = float(x_sample.mean())
    std = float(x_sample.std())
    single = -0.5 * ((x_sample - mean) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)
    best = GmmFit(mean, std, 1.0, float(scale * single.sum() + log_prior(np.array(1.0))))

    weights = np.array(GMM_INITIAL_WEIGHTS)
    splits = np.quantile(x_sample, 1.0 - weights)
    r1 = (x[None, :] > splits[:, None]).astype(np.float64)  # component 1 = above the split (dominant)
    logp = np.full(weights.size, -np.inf)
    active = np.ones(weights.size, dtype=bool)
    mu1 = var = pi = np.zeros(weights.size)
    for _ in range(niters):
        # M-step: means, shared variance, MAP weight under the Beta prior on scaled counts.
        wr1, wr0 = w * r1, w * (1 - r1)
        n1, n0 = wr1.sum(axis=1), wr0.sum(axis=1)
        mu1 = (wr1 @ x) / np.maximum(n1, 1e-12)
        mu0 = (wr0 @ x) / np.maximum(n0, 1e-12)
        var = (wr1 * (x - mu1[:, None]) ** 2 + wr0 * (x - mu0[:, None]) ** 2).sum(axis=1) / n
        var = np.maximum(var, 1e-12)
        a, b = alpha + scale * n1, beta + scale * n0
        pi = np.clip((a - 1) / (a + b - 2), 1e-12, 1 - 1e-12)
        # E-step and log posterior.
        log_norm = -0.5 * np.log(2 * np.pi * var)[:, None]
        l1 = np.log(pi)[:, None] + log_norm - 0.5 * (x - mu1[:, None]) ** 2 / var[:, None]
        l0 = np.log1p(-pi)[:, None] + log_norm - 0.5 * (x - mu0[:, None]) ** 2 / var[:, None]
        total = np.logaddexp(l1, l0)
        new_logp = scale * (w * total).sum(axis=1) + log_prior(pi)
        converged = new_logp - logp <= tol
        r1 = np.where(active[:, None], np.exp(l1 - total), r1)
        logp = np.where(active, new_logp, logp)
        active &= ~converged
        if not active.any():
            break
    i = int(np.argmax(logp))
    if logp[i] > best.logp:
        best = GmmFit(float(mu1[i]), float(math.sqrt(var[i])), float(pi[i]), float(logp[i]))
    return best


def normalize(
    image: np.ndarray, method: str, rng: np.random.Generator, gmm: dict | None = None
) -> tuple[np.ndarray, dict]:
    """Normalize ``image``; return it with the statistics used (for the per-micrograph JSON)."""
    if method == "none":
        return image.astype(np.float32), {"method": "none"}
    if method == "affine":
        mu, std = float(image.mean()), float(image.std())
        return ((image - mu) / std).astype(np.float32), {"method": "affine", "mu": mu, "std": std}
    if method == "gmm":
        fit = fit_gmm(image, rng, **(gmm or {}))
        return ((image - fit.mu) / fit.std).astype(np.float32), {"method": "gmm", **asdict(fit)}
    raise ValueError(f"unknown normalization '{method}'")


def micrograph_rng(seed: int, key: str) -> np.random.Generator:
    """Random generator for one micrograph: depends on the run seed and the name only."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def preprocess_image(image: np.ndarray, key: str, params: dict) -> tuple[np.ndarray, dict]:
    """Downsample, lowpass and normalize one micrograph; return it with its metadata."""
    pixel_size = float(params["pixel_size"])
    shape = output_shape(image.shape, pixel_size, params.get("downsample"), params.get("target_pixel_size"))
    scale_y, scale_x = image.shape[0] / shape[0], image.shape[1] / shape[1]
    out_pixel_size = pixel_size * scale_x
    cutoff = params.get("lowpass")
    cutoff_px = out_pixel_size / float(cutoff) if cutoff else None
    small = fourier_resample(image, shape, cutoff_px)
    normalized, stats = normalize(
        small, params["normalize"], micrograph_rng(int(params["seed"]), key), params.get("gmm")
    )
    meta = {
        "micrograph": key,
        "input_shape": list(image.shape),
        "shape": list(shape),
        "scale": [scale_y, scale_x],
        "pixel_size": out_pixel_size,
        "input_pixel_size": pixel_size,
        "lowpass_angstrom": cutoff,
        "normalization": stats,
        "output": {
            "mean": float(normalized.mean()),
            "std": float(normalized.std()),
            "min": float(normalized.min()),
            "max": float(normalized.max()),
        },
    }
    return normalized, meta
