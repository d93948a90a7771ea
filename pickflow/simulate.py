"""Test and benchmark data: synthetic cryo-EM micrographs with known particle positions.

Not a part of picking: the workflow never calls it. It makes the data sets of the tests, of ``benchmarks/`` and
of the general models' training (``benchmarks.general_models``), and ``pickflow simulate`` writes one to disk.

Image formation of one micrograph (vectorized numpy/scipy, no loops over pixels; Python loops run only
over particles during placement, a few contamination blobs and the blob-size batches of the renderer):

1. **Particle model.** A procedural, asymmetric ribosome-like 3-D density: a sum of anisotropic 3-D
   Gaussians (a large and a small subunit filled with overlapping blobs, dense "RNA" knots and three
   stalks; ``particle_shape: ellipsoid`` instead fills a globular or elongated ellipsoid with blobs,
   ``particle_aspect`` long/short). A rotated 3-D Gaussian projects to an exact 2-D Gaussian, so every particle is projected
   analytically at its own uniformly random rotation: no volume resampling, no orientation cache, exact
   sub-pixel centres. :func:`model_volume` rasterizes the same density (for checks and inspection).
2. **Projected potential** (units: Å x density relative to protein in ice): particles + junk (random
   blobs of other sizes) + a carbon film behind a straight or curved edge + dense ice contamination +
   amorphous-ice texture (white phase noise scaled with the local ice thickness; gives Thon rings).
3. **CTF.** Multiplied in Fourier space by the weak-phase CTF (astigmatic defocus, Cs, amplitude
   contrast, B-factor envelope) on a canvas extended past the image edges by the delocalization distance
   (everything is simulated there too, then cropped), so fringes do not wrap around.
4. **Dose and noise.** The particle contrast is scaled to the target SNR (signal variance over the
   particle footprints / shot-noise variance), multiplied by the transmission ``exp(-t / mean_free_path)``
   of the local thickness ``t`` (ice gradient, contamination, carbon), and Poisson counts are drawn at
   ``dose * pixel_size**2`` electrons per pixel. The MRC holds these counts (float32).

Everything is reproducible from ``SimulationConfig.seed``: micrograph ``i`` uses the random stream
``SeedSequence(seed, spawn_key=(i,))``, the particle model its own stream.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.fft
import starfile
from scipy.spatial.transform import Rotation

from .io.atomic import atomic_path, write_json
from .io.micrographs import write_mrc

log = logging.getLogger("pickflow.simulate")

_MODEL_STREAM = 2**31 - 1  # spawn key of the particle model's random stream
_LABEL_STREAM = 2**31 - 2  # spawn key prefix of the label streams
_CONTAMINATION_PHASE = 0.15  # phase of contamination per Å of thickness, relative to protein in ice
_CARBON_PHASE = 1.0  # phase of carbon per Å of thickness, relative to protein in ice
_CARBON_ATTENUATION = 2.0  # carbon scatters like this many Å of ice per Å
_CARBON_TEXTURE = 2.0  # extra amorphous texture on carbon (relative to ice)


PARTICLE_SHAPES = ("ribosome", "ellipsoid")


@dataclass(frozen=True)
class SimulationConfig:
    """Every setting of the simulator; the defaults are a moderate, realistic single-particle data set."""

    image_size: int = 1024  # px; micrographs are square
    pixel_size: float = 2.0  # Å per pixel
    micrographs: int = 4  # number of micrographs in a data set
    particles_per_micrograph: int = 100  # true particles placed per micrograph (fewer if they do not fit)
    particle_radius: float = 60.0  # Å; outer radius of the ribosome-like model
    particle_components: int = 64  # Gaussian blobs in the particle model (more = finer internal detail)
    particle_shape: str = "ribosome"  # ribosome (two subunits and stalks) | ellipsoid (blobs filling an ellipsoid)
    particle_aspect: float = 1.0  # ellipsoid: long / short semi-axis (1 = globular, 3 = rod-like)
    defocus_range: tuple[float, float] = (1.0, 2.5)  # µm underfocus, drawn uniformly per micrograph
    astigmatism: float = 0.05  # µm; maximum |defocus_u - defocus_v|
    voltage: float = 300.0  # kV
    spherical_aberration: float = 2.7  # mm
    amplitude_contrast: float = 0.1  # fraction A; CTF(k=0) = -A
    b_factor: float = 80.0  # Å^2; envelope exp(-B k^2 / 4)
    dose: float = 40.0  # e-/Å^2; mean counts per pixel = dose * pixel_size^2 * transmission
    snr: float = 0.05  # per-pixel SNR: particle signal variance / shot-noise variance
    ice_thickness: float = 400.0  # Å; mean ice thickness
    ice_gradient: float = 150.0  # Å; thickness change across the image (linear ramp + smooth waves)
    ice_texture: float = 0.3  # variance of the CTF-filtered amorphous-ice texture / shot-noise variance
    mean_free_path: float = 3500.0  # Å; transmission = exp(-thickness / mean_free_path)
    contamination_count: float = 0.5  # mean number of dense ice contamination blobs per micrograph (Poisson)
    contamination_radius: tuple[float, float] = (60.0, 500.0)  # Å; radius drawn log-uniformly
    contamination_thickness: float = 1500.0  # Å; thickness at the centre of a large blob
    contamination_avoidance: float = 0.95  # probability that a particle over a blob is moved elsewhere
    carbon_probability: float = 0.0  # probability that a micrograph shows a carbon edge
    carbon_thickness: float = 150.0  # Å; thickness of the carbon film on its side of the edge
    junk_per_micrograph: int = 10  # junk objects (other proteins, aggregates) per micrograph
    junk_radius_range: tuple[float, float] = (0.3, 2.0)  # junk radius / particle radius, log-uniform
    min_separation: float = 1.0  # minimum centre distance between particles, in particle diameters
    aggregate_probability: float = 0.05  # probability that a placed particle seeds a cluster of touching ones
    aggregate_size: tuple[int, int] = (2, 5)  # particles per cluster (inclusive range)
    label_fraction: float = 0.5  # fraction of the true particles given as (partial) labels
    label_jitter: float = 2.0  # px; labels are moved by up to this distance (uniform in a disk)
    seed: int = 0  # random seed of the whole data set

    def __post_init__(self) -> None:
        """Reject settings that cannot give a micrograph."""
        problems = []
        if self.image_size < 16 or self.micrographs < 0 or self.particles_per_micrograph < 0:
            problems.append("image_size >= 16, micrographs >= 0 and particles_per_micrograph >= 0")
        if min(self.pixel_size, self.particle_radius, self.dose, self.snr, self.voltage, self.mean_free_path) <= 0:
            problems.append("positive pixel_size, particle_radius, dose, snr, voltage and mean_free_path")
        if self.particle_shape not in PARTICLE_SHAPES or self.particle_aspect < 1:
            problems.append(f"particle_shape in {PARTICLE_SHAPES} and particle_aspect >= 1")
        for name in ("amplitude_contrast", "label_fraction", "aggregate_probability", "carbon_probability"):
            if not 0 <= getattr(self, name) <= 1:
                problems.append(f"{name} in [0, 1]")
        for name in ("defocus_range", "contamination_radius", "junk_radius_range", "aggregate_size"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                problems.append(f"{name} as (low, high) with 0 < low <= high")
        if problems:
            raise ValueError("invalid simulation settings; need " + "; ".join(problems))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimulationConfig:
        """Build a config from a (JSON) dict; lists become tuples, unknown keys are errors."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown simulation settings: {', '.join(unknown)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every setting (JSON-ready)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> SimulationConfig:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, dict[str, Any]] = {
    # High SNR, thin even ice, few junk objects, no carbon or contamination, half the particles labeled.
    "easy": {
        "snr": 0.06,
        "defocus_range": (1.5, 3.0),
        "ice_gradient": 100.0,
        "ice_texture": 0.2,
        "junk_per_micrograph": 3,
        "junk_radius_range": (0.3, 0.6),
        "contamination_count": 0.0,
        "carbon_probability": 0.0,
        "aggregate_probability": 0.0,
        "label_fraction": 0.5,
        "label_jitter": 1.0,
    },
    # Low SNR and low defocus, thick uneven ice, much junk, contamination, carbon edges, aggregates, 25% labels.
    "hard": {
        "snr": 0.04,
        "defocus_range": (1.0, 2.5),
        "ice_thickness": 600.0,
        "ice_gradient": 250.0,
        "ice_texture": 0.4,
        "junk_per_micrograph": 40,
        "junk_radius_range": (0.3, 2.5),
        "contamination_count": 4.0,
        "carbon_probability": 0.6,
        "min_separation": 0.9,
        "aggregate_probability": 0.06,
        "label_fraction": 0.25,
        "label_jitter": 4.0,
    },
}


def preset(name: str, **overrides: Any) -> SimulationConfig:
    """The named preset (``easy`` or ``hard``) with ``overrides`` applied."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return SimulationConfig(**{**PRESETS[name], **overrides})


# --------------------------------------------------------------------------------------------------
# Contrast transfer function


def electron_wavelength(voltage_kv: float) -> float:
    """Relativistic electron wavelength in Å for an acceleration voltage in kV (0.0197 Å at 300 kV)."""
    v = voltage_kv * 1e3
    return float(12.2643247 / np.sqrt(v * (1.0 + 0.978466e-6 * v)))


def ctf(
    k: np.ndarray | float,
    defocus_um: np.ndarray | float,
    *,
    voltage_kv: float = 300.0,
    cs_mm: float = 2.7,
    amplitude_contrast: float = 0.1,
    b_factor: float = 0.0,
) -> np.ndarray:
    """Weak-phase CTF at spatial frequency ``k`` (1/Å); defocus in µm, positive = underfocus.

    ``chi = pi*lambda*dz*k^2 - pi/2*Cs*lambda^3*k^4``,
    ``CTF = (-sqrt(1 - A^2) sin(chi) - A cos(chi)) * exp(-B k^2 / 4)``; CTF(0) = -A.
    """
    k2 = np.square(np.asarray(k, dtype=np.float64))
    lam = electron_wavelength(voltage_kv)
    dz = np.asarray(defocus_um, dtype=np.float64) * 1e4
    cs = cs_mm * 1e7
    chi = np.pi * lam * dz * k2 - 0.5 * np.pi * cs * lam**3 * k2 * k2
    a = amplitude_contrast
    return (-np.sqrt(1.0 - a * a) * np.sin(chi) - a * np.cos(chi)) * np.exp(-b_factor * k2 / 4.0)


def ctf_2d(
    shape: tuple[int, int],
    pixel_size: float,
    defocus_u: float,
    defocus_v: float | None = None,
    astig_angle: float = 0.0,
    *,
    voltage_kv: float = 300.0,
    cs_mm: float = 2.7,
    amplitude_contrast: float = 0.1,
    b_factor: float = 0.0,
) -> np.ndarray:
    """CTF on the ``rfft2`` grid of an image of ``shape`` (ny, nx); astigmatic defocus in µm, angle in rad."""
    ny, nx = shape
    fy = scipy.fft.fftfreq(ny, d=pixel_size)[:, None]
    fx = scipy.fft.rfftfreq(nx, d=pixel_size)[None, :]
    k = np.sqrt(fx * fx + fy * fy)
    defocus_v = defocus_u if defocus_v is None else defocus_v
    dz = 0.5 * (defocus_u + defocus_v) + 0.5 * (defocus_u - defocus_v) * np.cos(
        2.0 * (np.arctan2(fy, fx) - astig_angle)
    )
    return ctf(
        k, dz, voltage_kv=voltage_kv, cs_mm=cs_mm, amplitude_contrast=amplitude_contrast, b_factor=b_factor
    ).astype(np.float32)


# scipy.fft's transforms are uarray multimethods, annotated as returning their dispatch tuple: these say what they
# return for a NumPy array (single-threaded, as everywhere in the simulator).
def _rfft2(x: np.ndarray) -> np.ndarray:
    return cast(np.ndarray, scipy.fft.rfft2(x, workers=1))


def _irfft2(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return cast(np.ndarray, scipy.fft.irfft2(x, s=shape, workers=1))


# --------------------------------------------------------------------------------------------------
# Gaussian-blob densities and their projections


@dataclass(frozen=True)
class GaussianModel:
    """A 3-D density ``sum_k density_k * exp(-0.5 (r - c_k)^T cov_k^-1 (r - c_k))``; lengths in Å, (x, y, z)."""

    centers: np.ndarray  # (K, 3)
    covariances: np.ndarray  # (K, 3, 3)
    densities: np.ndarray  # (K,)
    radius: float = field(default=0.0)  # Å; the model fits inside this sphere (approximately)


def _random_covariances(rng: np.random.Generator, sigmas: np.ndarray) -> np.ndarray:
    """Randomly oriented covariances with principal standard deviations ``sigmas`` (n, 3)."""
    rot = Rotation.random(len(sigmas), rng=rng).as_matrix()
    return np.einsum("nij,nj,nkj->nik", rot, sigmas**2, rot)


def _in_ellipsoid(rng: np.random.Generator, n: int, center: np.ndarray, semi_axes: np.ndarray) -> np.ndarray:
    """``n`` points uniform inside an axis-aligned ellipsoid."""
    direction = rng.standard_normal((n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return center + direction * rng.random((n, 1)) ** (1 / 3) * semi_axes


def ribosome_model(radius: float, n_components: int = 64, rng: np.random.Generator | None = None) -> GaussianModel:
    """Procedural, asymmetric two-subunit particle (ribosome-like) of outer radius ``radius`` Å.

    Two flattened ellipsoidal subunits filled with overlapping medium blobs, dense small knots (RNA-like,
    up to 1.5x the protein density) and three short stalks; orientations give distinct projections.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    r = radius
    subunits = [  # centre, semi-axes (fractions of r), share of the blobs
        (np.array([0.0, 0.0, -0.18]), np.array([0.76, 0.7, 0.55]), 0.62),
        (np.array([0.08, 0.05, 0.45]), np.array([0.68, 0.45, 0.3]), 0.38),
    ]
    n_blobs = max(4, int(round(0.75 * (n_components - 3))))
    n_knots = max(2, n_components - 3 - n_blobs)
    centers, covs, dens = [], [], []
    for centre, semi, share in subunits:
        n = max(2, int(round(share * n_blobs)))
        centers.append(_in_ellipsoid(rng, n, centre, 0.8 * semi) * r)
        covs.append(_random_covariances(rng, rng.uniform(0.09, 0.17, (n, 3)) * r))
        dens.append(rng.uniform(0.5, 1.0, n))
    which = rng.random(n_knots) < 0.6
    knot_c = np.where(
        which[:, None],
        _in_ellipsoid(rng, n_knots, subunits[0][0], 0.8 * subunits[0][1]),
        _in_ellipsoid(rng, n_knots, subunits[1][0], 0.8 * subunits[1][1]),
    )
    centers.append(knot_c * r)
    covs.append(_random_covariances(rng, rng.uniform(0.045, 0.075, (n_knots, 3)) * r))
    dens.append(rng.uniform(1.0, 1.5, n_knots))
    stalk_dirs = np.array([[0.8, 0.45, -0.1], [-0.75, 0.5, 0.1], [0.1, -0.85, -0.35]])
    stalk_dirs /= np.linalg.norm(stalk_dirs, axis=1, keepdims=True)
    stalk_c = stalk_dirs * 0.72 * r + rng.normal(0, 0.03 * r, (3, 3))
    ortho = np.linalg.qr(np.stack([stalk_dirs, rng.standard_normal((3, 3)), rng.standard_normal((3, 3))], 2))[0]
    stalk_sig = np.array([0.11, 0.075, 0.075]) * r
    covs.append(np.einsum("nij,j,nkj->nik", ortho, stalk_sig**2, ortho))
    centers.append(stalk_c)
    dens.append(rng.uniform(0.8, 1.1, 3))
    centers_a = np.concatenate(centers)
    return GaussianModel(centers_a - centers_a.mean(0), np.concatenate(covs), np.concatenate(dens), float(radius))


def ellipsoid_model(
    radius: float, aspect: float, n_components: int = 64, rng: np.random.Generator | None = None
) -> GaussianModel:
    """Overlapping blobs filling a prolate ellipsoid whose long semi-axis is ``radius`` Å and whose two
    short ones are ``radius / aspect`` (slightly unequal, so projections differ with the orientation)."""
    rng = np.random.default_rng(0) if rng is None else rng
    semi = radius * np.array([1.0, 1.0 / aspect, 0.85 / aspect])
    size = 0.18 * semi.min() + 0.04 * radius
    centers = _in_ellipsoid(rng, n_components, np.zeros(3), 0.75 * semi)
    covs = _random_covariances(rng, rng.uniform(0.7, 1.3, (n_components, 3)) * size)
    dens = rng.uniform(0.5, 1.5, n_components)
    return GaussianModel(centers - centers.mean(0), covs, dens, float(radius))


def particle_model(cfg: SimulationConfig, rng: np.random.Generator) -> GaussianModel:
    """The data set's particle: the configured shape at its radius."""
    if cfg.particle_shape == "ellipsoid":
        return ellipsoid_model(cfg.particle_radius, cfg.particle_aspect, cfg.particle_components, rng)
    return ribosome_model(cfg.particle_radius, cfg.particle_components, rng)


def model_volume(model: GaussianModel, pixel_size: float, box: int) -> np.ndarray:
    """Rasterize ``model`` into a ``(box, box, box)`` float32 volume ``[z, y, x]``, centre at ``box // 2``."""
    axis = (np.arange(box) - box // 2) * pixel_size
    z, y, x = np.meshgrid(axis, axis, axis, indexing="ij", sparse=True)
    volume = np.zeros((box, box, box), dtype=np.float64)
    precision = np.linalg.inv(model.covariances)
    for c, p, rho in zip(model.centers, precision, model.densities, strict=True):  # loop over blobs, not voxels
        d = (x - c[0], y - c[1], z - c[2])
        q = sum(p[i, j] * d[i] * d[j] for i in range(3) for j in range(3))
        volume += rho * np.exp(-0.5 * q)
    return volume.astype(np.float32)


def project_gaussians(
    centers: np.ndarray,
    covariances: np.ndarray,
    densities: np.ndarray,
    rotations: np.ndarray,
    positions: np.ndarray,
    pixel_size: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact projections along z of rotated 3-D Gaussian sets, as flat lists of 2-D Gaussians in pixels.

    ``centers`` (n|1, K, 3), ``covariances`` (n|1, K, 3, 3), ``densities`` (n|1, K) in Å; ``rotations``
    (n, 3, 3) act on the model (r' = R r); ``positions`` (n, 2) are image (x, y) pixels. Returns
    2-D centres (M, 2) px, covariances (M, 2, 2) px^2 and peak amplitudes (M,) in Å x density
    (line integrals), dropping zero-density entries.
    """
    n = len(rotations)
    r2 = rotations[:, :2, :]
    c = np.einsum("nij,nkj->nki", r2, np.broadcast_to(centers, (n, *centers.shape[-2:])))
    cov3 = np.broadcast_to(covariances, (n, *covariances.shape[-3:]))
    cov2 = np.einsum("nij,nkjl,nml->nkim", r2, cov3, r2)
    mass = np.broadcast_to(densities, (n, densities.shape[-1])) * (2 * np.pi) ** 1.5 * np.sqrt(np.linalg.det(cov3))
    det2 = cov2[..., 0, 0] * cov2[..., 1, 1] - cov2[..., 0, 1] ** 2
    amp = mass / (2 * np.pi * np.sqrt(det2))
    keep = (amp > 0).ravel()
    xy = c / pixel_size + positions[:, None, :]
    return xy.reshape(-1, 2)[keep], (cov2 / pixel_size**2).reshape(-1, 2, 2)[keep], amp.ravel()[keep]


_HALF_WIDTHS = np.array([2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512])


def render_gaussians(
    shape: tuple[int, int],
    centers: np.ndarray,
    covariances: np.ndarray,
    amplitudes: np.ndarray,
    cutoff: float = 3.5,
    chunk: int = 1 << 21,
) -> np.ndarray:
    """Sum 2-D Gaussians into a float32 image ``[y, x]``: centres (M, 2) as (x, y) px, covariances (M, 2, 2).

    Each Gaussian is evaluated in a square window of ``cutoff`` standard deviations; Gaussians are
    batched by window size and scattered with ``np.bincount``.
    """
    ny, nx = shape
    out = np.zeros(ny * nx + 1)
    if len(amplitudes) == 0:
        return out[:-1].reshape(shape).astype(np.float32)
    a, b, c = covariances[:, 0, 0], covariances[:, 0, 1], covariances[:, 1, 1]
    det = a * c - b * b
    pa, pb, pc = (c / det).astype(np.float32), (-b / det).astype(np.float32), (a / det).astype(np.float32)
    lmax = 0.5 * (a + c) + np.sqrt(0.25 * (a - c) ** 2 + b * b)
    bucket = np.minimum(np.searchsorted(_HALF_WIDTHS, np.ceil(cutoff * np.sqrt(lmax))), len(_HALF_WIDTHS) - 1)
    for bi in np.unique(bucket):
        h = int(_HALF_WIDTHS[bi])
        offsets = np.arange(-h, h + 1)
        members = np.flatnonzero(bucket == bi)
        step = max(1, chunk // (2 * h + 1) ** 2)
        for start in range(0, len(members), step):
            sel = members[start : start + step]
            cx, cy = centers[sel, 0], centers[sel, 1]
            ix = np.floor(cx).astype(np.int64)[:, None] + offsets
            iy = np.floor(cy).astype(np.int64)[:, None] + offsets
            dx = (ix - cx[:, None]).astype(np.float32)[:, None, :]
            dy = (iy - cy[:, None]).astype(np.float32)[:, :, None]
            q = pa[sel, None, None] * dx * dx + dy * (2 * pb[sel, None, None] * dx + pc[sel, None, None] * dy)
            values = amplitudes[sel, None, None].astype(np.float32) * np.exp(-0.5 * q)
            valid = ((iy >= 0) & (iy < ny))[:, :, None] & ((ix >= 0) & (ix < nx))[:, None, :]
            index = np.where(valid, iy[:, :, None] * nx + ix[:, None, :], ny * nx)
            out += np.bincount(index.ravel(), weights=values.ravel(), minlength=ny * nx + 1)
    return out[:-1].reshape(shape).astype(np.float32)


def _junk_gaussians(
    rng: np.random.Generator, radii_px: np.ndarray, pixel_size: float, max_components: int = 24
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random blob clusters of the given radii (px): (n, K, 3) centres, covariances and densities in Å."""
    n = len(radii_px)
    r = radii_px * pixel_size
    counts = np.clip(np.round(3 + 12 * (radii_px / radii_px.max()) ** 2), 2, max_components).astype(int)
    k = int(counts.max()) if n else 1
    direction = rng.standard_normal((n, k, 3))
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    centers = direction * (0.65 * r[:, None, None] * rng.random((n, k, 1)) ** (1 / 3))
    sigmas = rng.uniform(0.15, 0.4, (n * k, 3)) * np.repeat(r, k)[:, None]
    covs = _random_covariances(rng, sigmas).reshape(n, k, 3, 3)
    dens = rng.uniform(0.4, 1.6, (n, k)) * (np.arange(k)[None, :] < counts[:, None])
    return centers, covs, dens


# --------------------------------------------------------------------------------------------------
# Micrograph-scale maps: ice, contamination, carbon


def _grid(n_pad: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Open coordinate grids (y as a column vector, x as a row vector) of the padded canvas, in image pixels."""
    axis = np.arange(n_pad, dtype=np.float32) - pad
    return axis[:, None], axis[None, :]


def _ice_thickness(rng: np.random.Generator, cfg: SimulationConfig, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Ice thickness (Å): mean + linear ramp + a few smooth random waves (<= 1.5 cycles per image)."""
    n = cfg.image_size
    angle = rng.uniform(0, 2 * np.pi)
    ramp = ((xx - n / 2) * np.cos(angle) + (yy - n / 2) * np.sin(angle)) / n
    t = cfg.ice_thickness + cfg.ice_gradient * ramp
    for _ in range(4):  # cos(a + b) = cos a cos b - sin a sin b keeps each wave an outer product
        kx, ky = rng.uniform(-1.5, 1.5, 2) / n
        ax, by = 2 * np.pi * kx * xx + rng.uniform(0, 2 * np.pi), 2 * np.pi * ky * yy
        t = t + 0.1 * cfg.ice_gradient * (np.cos(ax) * np.cos(by) - np.sin(ax) * np.sin(by))
    return np.maximum(t, 0.05 * cfg.ice_thickness).astype(np.float32)


def _contamination(
    rng: np.random.Generator, cfg: SimulationConfig, shape: tuple[int, int], pad: int
) -> tuple[np.ndarray, np.ndarray]:
    """Dense ice contamination (Å of extra thickness) on the padded canvas, and blobs as rows (x, y, r_max) px.

    Blobs are irregular domes: radius ``r(theta)`` with a few random harmonics, thickness ``~sqrt(1 - (d/r)^2)``.
    """
    thickness = np.zeros(shape, dtype=np.float32)
    count = rng.poisson(cfg.contamination_count) if cfg.contamination_count > 0 else 0
    blobs = np.zeros((count, 3))
    lo, hi = np.log(cfg.contamination_radius[0]), np.log(cfg.contamination_radius[1])
    for i in range(count):  # loop over a few blobs
        r0 = float(np.exp(rng.uniform(lo, hi))) / cfg.pixel_size
        harmonics = rng.uniform(0, 0.12, 4) / np.sqrt(np.arange(2, 6))
        phases = rng.uniform(0, 2 * np.pi, 4)
        r_max = r0 * (1 + harmonics.sum())
        cx, cy = rng.uniform(0, cfg.image_size, 2)  # inside the image, so the box is never empty
        x0, x1 = max(0, int(cx + pad - r_max) - 2), min(shape[1], int(cx + pad + r_max) + 3)
        y0, y1 = max(0, int(cy + pad - r_max) - 2), min(shape[0], int(cy + pad + r_max) + 3)
        dx = (np.arange(x0, x1) - pad - cx)[None, :]
        dy = (np.arange(y0, y1) - pad - cy)[:, None]
        theta = np.arctan2(dy, dx)
        orders = np.arange(2, 6)[:, None, None]
        radius = r0 * (1 + (harmonics[:, None, None] * np.cos(orders * theta + phases[:, None, None])).sum(0))
        dome = np.sqrt(np.clip(1 - (dx * dx + dy * dy) / radius**2, 0, 1))
        height = cfg.contamination_thickness * rng.uniform(0.6, 1.2) * min(1.0, np.sqrt(r0 * cfg.pixel_size / 300))
        thickness[y0:y1, x0:x1] += (height * dome).astype(np.float32)
        blobs[i] = cx, cy, r_max
    return thickness, blobs


def _carbon(
    rng: np.random.Generator, cfg: SimulationConfig, yy: np.ndarray, xx: np.ndarray
) -> tuple[np.ndarray, dict[str, Any]]:
    """Carbon coverage in [0, 1] on the padded canvas (sharp, slightly smoothed edge) and its description."""
    if rng.random() >= cfg.carbon_probability:
        return np.zeros((yy.shape[0], xx.shape[1]), dtype=np.float32), {"carbon": "none"}
    n = cfg.image_size
    angle = rng.uniform(0, 2 * np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)])  # points from the hole into the carbon
    p0 = n / 2 + normal * rng.uniform(0.05, 0.45) * n  # the carbon covers less than half of the image
    if rng.random() < 0.5:
        signed = (xx - p0[0]) * normal[0] + (yy - p0[1]) * normal[1]
        info: dict[str, Any] = {"carbon": "straight"}
    else:  # edge of a round hole (radius 0.6-1 µm at 2 Å/px); carbon outside the hole
        hole = rng.uniform(1.2, 2.5) * n
        centre = p0 - normal * hole
        signed = np.hypot(xx - centre[0], yy - centre[1]) - hole
        info = {"carbon": "curved", "hole_radius_px": float(hole)}
    info.update(edge_point=p0.tolist(), edge_normal=normal.tolist())
    return (0.5 * (1 + np.tanh(signed / 1.5))).astype(np.float32), info


# --------------------------------------------------------------------------------------------------
# Placement and labels


def _place_particles(
    rng: np.random.Generator, cfg: SimulationConfig, blobs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random sequential placement with a minimum separation, clusters of touching particles, and
    (mostly) away from contamination. Returns positions (n, 2) px, aggregate id (-1 = single), is-aggregate."""
    n, size = cfg.particles_per_micrograph, cfg.image_size
    diameter = 2 * cfg.particle_radius / cfg.pixel_size
    d_min = cfg.min_separation * diameter
    pos = np.zeros((n, 2))
    group = np.full(n, -1)
    count, attempts, next_group = 0, 0, 0

    def free(q: np.ndarray, gid: int) -> bool:
        if not (0 <= q[0] <= size - 1 and 0 <= q[1] <= size - 1):
            return False
        d = np.hypot(*(pos[:count] - q).T)
        others = group[:count] != gid if gid >= 0 else np.ones(count, bool)
        if np.any(d[others] < d_min) or np.any(d[~others] < 0.8 * diameter):
            return False
        if len(blobs) and np.any(np.hypot(*(blobs[:, :2] - q).T) < blobs[:, 2] + 0.5 * diameter):
            return rng.random() >= cfg.contamination_avoidance
        return True

    while count < n and attempts < 200 * n:  # loop over particles: sequential adsorption is sequential
        attempts += 1
        q = rng.uniform(0, size - 1, 2)
        if not free(q, -2):
            continue
        pos[count] = q
        count += 1
        if rng.random() >= cfg.aggregate_probability or count >= n:
            continue
        gid, members = next_group, [count - 1]
        next_group += 1
        group[count - 1] = gid
        target = int(rng.integers(cfg.aggregate_size[0], cfg.aggregate_size[1] + 1))
        for _ in range(20 * target):
            if len(members) >= target or count >= n:
                break
            angle = rng.uniform(0, 2 * np.pi)
            q = pos[rng.choice(members)] + diameter * rng.uniform(0.85, 1.0) * np.array([np.cos(angle), np.sin(angle)])
            if free(q, gid):
                pos[count], group[count] = q, gid
                members.append(count)
                count += 1
        if len(members) == 1:
            group[count - 1] = -1
    if count < n:
        log.warning("placed %d of %d particles (crowding); lower particles_per_micrograph", count, n)
    group = group[:count]
    return pos[:count], group, group >= 0


def select_labels(
    particles: pd.DataFrame, fraction: float, jitter: float, rng: np.random.Generator, size: int
) -> pd.DataFrame:
    """Partial labels: a random ``fraction`` of the particles (selected completely at random, as PU learning
    assumes), each moved by <= ``jitter`` px (uniform in a disk, clipped to the image).
    Returns ``x, y, particle`` (row of the particle it labels)."""
    k = int(round(fraction * len(particles)))
    idx = np.sort(rng.choice(len(particles), size=k, replace=False))
    r = jitter * np.sqrt(rng.random(k))
    angle = rng.uniform(0, 2 * np.pi, k)
    x = np.clip(particles["x"].to_numpy()[idx] + r * np.cos(angle), 0, size - 1)
    y = np.clip(particles["y"].to_numpy()[idx] + r * np.sin(angle), 0, size - 1)
    return pd.DataFrame({"x": x, "y": y, "particle": idx})


# --------------------------------------------------------------------------------------------------
# One micrograph


def micrograph_name(index: int) -> str:
    """Name (key) of micrograph ``index``."""
    return f"sim_{index:04d}"


def _padding(cfg: SimulationConfig) -> int:
    """Canvas margin (px) covering the CTF delocalization up to Nyquist (16 to 128 px)."""
    lam = electron_wavelength(cfg.voltage)
    k = 0.5 / cfg.pixel_size
    deloc = lam * max(cfg.defocus_range) * 1e4 * k + cfg.spherical_aberration * 1e7 * lam**3 * k**3
    return int(np.clip(np.ceil(deloc / cfg.pixel_size), 16, 128))


def _spectral_mean(h2: np.ndarray, nx: int) -> float:
    """Mean of a real-symmetric spectrum over the full 2-D grid, from its ``rfft`` half."""
    weights = np.full(h2.shape[1], 2.0)
    weights[0] = 1.0
    if nx % 2 == 0:
        weights[-1] = 1.0
    return float((h2 * weights).sum() / (h2.shape[0] * nx))


def simulate_micrograph(cfg: SimulationConfig, index: int) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Simulate micrograph ``index`` of the data set ``cfg``.

    Returns the image (float32 counts, ``[y, x]``), the particles (``x, y, is_aggregate, aggregate_id,
    rot, tilt, psi, on_carbon, near_contamination``; x = column, y = row, px) and the junk (``x, y, radius,
    kind``). ``particles.attrs["micrograph"]`` holds the per-micrograph settings (defocus, carbon, ...).
    The steps below draw from the micrograph's random stream in this order.
    """
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(index,)))
    model = particle_model(cfg, np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(_MODEL_STREAM,))))
    canvas = _Canvas.of(cfg)
    scene = _lay_out(rng, cfg, canvas)
    phi_particles = _particle_potential(model, cfg, canvas, scene.positions, scene.rotations)
    phi_rest = _background_potential(rng, cfg, canvas, scene)
    optics = _draw_optics(rng, cfg, canvas)
    transmission = _transmission(cfg, scene)
    counts0 = cfg.dose * cfg.pixel_size * cfg.pixel_size  # incident electrons per pixel
    mean_counts = counts0 * float(transmission[canvas.crop].mean())
    p_hat, scale = _scale_to_snr(model, cfg, canvas, phi_particles, optics.ctf, mean_counts)
    if cfg.ice_texture > 0 and scale > 0:
        phi_rest += _ice_texture(rng, cfg, canvas, scene, optics.ctf, mean_counts, scale)
    contrast = _irfft2(p_hat + _rfft2(phi_rest) * optics.ctf, canvas.shape)
    expected = counts0 * transmission[canvas.crop] * np.maximum(1.0 + scale * contrast[canvas.crop], 0.0)
    image = rng.poisson(expected).astype(np.float32)
    particles, junk = _tables(cfg, canvas, scene)
    particles.attrs["micrograph"] = {
        "name": micrograph_name(index),
        "defocus_u": optics.defocus_u,
        "defocus_v": optics.defocus_v,
        "astig_angle_deg": float(np.degrees(optics.astig_angle)),
        "particles": len(particles),
        "junk": len(junk),
        "contamination_blobs": len(scene.blobs),
        "mean_counts": mean_counts,
        "contrast_scale": float(scale),
        **scene.carbon_info,
    }
    return image, particles, junk


@dataclass(frozen=True)
class _Canvas:
    """The simulation canvas: the image and a margin around it for the CTF's delocalization (cropped at the end)."""

    size: int  # the image's side (px)
    pad: int  # the margin (px)
    n: int  # the padded side, a fast FFT length

    @classmethod
    def of(cls, cfg: SimulationConfig) -> _Canvas:
        pad = _padding(cfg)
        # scipy.fft.next_fast_len is a C function under a documentation stand-in whose body is `pass` (None to pyright).
        return cls(cfg.image_size, pad, cast(int, scipy.fft.next_fast_len(cfg.image_size + 2 * pad, real=True)))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.n)

    @property
    def crop(self) -> tuple[slice, slice]:
        """The image inside the canvas."""
        return (slice(self.pad, self.pad + self.size), slice(self.pad, self.pad + self.size))


@dataclass(frozen=True)
class _Scene:
    """What lies on the grid: the micrograph-scale maps on the canvas, the particles and the junk (image px)."""

    ice: np.ndarray  # thickness (Å)
    contamination: np.ndarray  # extra thickness (Å)
    blobs: np.ndarray  # contamination blobs (x, y, r_max)
    carbon: np.ndarray  # coverage in [0, 1]
    carbon_info: dict[str, Any]
    positions: np.ndarray  # particle centres (n, 2) as (x, y)
    group: np.ndarray  # aggregate id (-1: single)
    is_aggregate: np.ndarray
    rotations: Rotation | None  # None without particles
    junk_positions: np.ndarray
    junk_radii: np.ndarray


@dataclass(frozen=True)
class _Optics:
    """The micrograph's defocus and astigmatism, and its CTF on the canvas (``rfft`` half)."""

    defocus_u: float
    defocus_v: float
    astig_angle: float  # radians
    ctf: np.ndarray


def _lay_out(rng: np.random.Generator, cfg: SimulationConfig, canvas: _Canvas) -> _Scene:
    """Ice, contamination and carbon maps, then the particles (away from contamination) and the junk."""
    yy, xx = _grid(canvas.n, canvas.pad)
    ice = _ice_thickness(rng, cfg, yy, xx)
    contamination, blobs = _contamination(rng, cfg, canvas.shape, canvas.pad)
    carbon, carbon_info = _carbon(rng, cfg, yy, xx)
    positions, group, is_aggregate = _place_particles(rng, cfg, blobs)
    rotations = Rotation.random(len(positions), rng=rng) if len(positions) else None
    junk_positions, junk_radii = _place_junk(rng, cfg, positions)
    return _Scene(
        ice,
        contamination,
        blobs,
        carbon,
        carbon_info,
        positions,
        group,
        is_aggregate,
        rotations,
        junk_positions,
        junk_radii,
    )


def _place_junk(
    rng: np.random.Generator, cfg: SimulationConfig, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Junk centres (uniform, keeping off the particle centres) and radii (px, log-uniform)."""
    radius_px = cfg.particle_radius / cfg.pixel_size
    n_junk = cfg.junk_per_micrograph
    lo, hi = np.log(cfg.junk_radius_range[0]), np.log(cfg.junk_radius_range[1])
    cand = rng.uniform(0, cfg.image_size - 1, (20 * n_junk, 2))
    cand_r = radius_px * np.exp(rng.uniform(lo, hi, 20 * n_junk))
    if len(positions) and n_junk:
        dist = np.hypot(*(cand[:, None, :] - positions[None, :, :]).transpose(2, 0, 1)).min(1)
        keep = dist >= 0.7 * (radius_px + cand_r)
        cand, cand_r = cand[keep], cand_r[keep]
    return cand[:n_junk], cand_r[:n_junk]


def _particle_potential(
    model: GaussianModel, cfg: SimulationConfig, canvas: _Canvas, positions: np.ndarray, rotations: Rotation | None
) -> np.ndarray | None:
    """Projected potential of the particles on the canvas (kept apart for the SNR scaling); None without any."""
    if rotations is None:
        return None
    return _render_model(model, cfg, canvas, positions, rotations.as_matrix())


def _render_model(
    model: GaussianModel, cfg: SimulationConfig, canvas: _Canvas, positions: np.ndarray, rotations: np.ndarray
) -> np.ndarray:
    g = project_gaussians(
        model.centers[None],
        model.covariances[None],
        model.densities[None],
        rotations,
        positions + canvas.pad,
        cfg.pixel_size,
    )
    return render_gaussians(canvas.shape, *g)


def _background_potential(
    rng: np.random.Generator, cfg: SimulationConfig, canvas: _Canvas, scene: _Scene
) -> np.ndarray:
    """Projected potential of everything but the particles: carbon, contamination and junk."""
    phi = (_CARBON_PHASE * cfg.carbon_thickness) * scene.carbon + _CONTAMINATION_PHASE * scene.contamination
    if len(scene.junk_positions):
        jc, jcov, jd = _junk_gaussians(rng, scene.junk_radii, cfg.pixel_size)
        jrot = Rotation.random(len(scene.junk_positions), rng=rng).as_matrix()
        g = project_gaussians(jc, jcov, jd, jrot, scene.junk_positions + canvas.pad, cfg.pixel_size)
        phi += render_gaussians(canvas.shape, *g)
    return phi


def _draw_optics(rng: np.random.Generator, cfg: SimulationConfig, canvas: _Canvas) -> _Optics:
    """Random defocus and astigmatism, and the CTF they give."""
    defocus = rng.uniform(*cfg.defocus_range)
    astig = rng.uniform(0, cfg.astigmatism)
    astig_angle = rng.uniform(0, np.pi)
    defocus_u, defocus_v = defocus + astig / 2, defocus - astig / 2
    h = ctf_2d(
        canvas.shape,
        cfg.pixel_size,
        defocus_u,
        defocus_v,
        astig_angle,
        voltage_kv=cfg.voltage,
        cs_mm=cfg.spherical_aberration,
        amplitude_contrast=cfg.amplitude_contrast,
        b_factor=cfg.b_factor,
    )
    return _Optics(defocus_u, defocus_v, astig_angle, h)


def _transmission(cfg: SimulationConfig, scene: _Scene) -> np.ndarray:
    """Fraction of the electrons that pass the local thickness (ice, contamination, carbon) unscattered."""
    thickness = scene.ice + scene.contamination + (_CARBON_ATTENUATION * cfg.carbon_thickness) * scene.carbon
    return np.exp(-thickness / cfg.mean_free_path)


def _scale_to_snr(
    model: GaussianModel,
    cfg: SimulationConfig,
    canvas: _Canvas,
    phi_particles: np.ndarray | None,
    h: np.ndarray,
    mean_counts: float,
) -> tuple[np.ndarray, float]:
    """The particles' spectrum through the CTF, and the contrast scale that gives them ``cfg.snr`` over their
    footprints (without particles: as if one stood in the centre, and a zero spectrum)."""
    if phi_particles is None:
        size = canvas.size
        phi_ref = _render_model(model, cfg, canvas, np.array([[size / 2, size / 2]]), np.eye(3)[None])
    else:
        phi_ref = phi_particles
    p_hat = _rfft2(phi_ref) * h
    c_ref = _irfft2(p_hat, canvas.shape)
    footprint = phi_ref > 0.05 * phi_ref.max()
    signal_var = float(np.mean((c_ref[footprint] - c_ref.mean()) ** 2))
    scale = np.sqrt(cfg.snr / (signal_var * mean_counts)) if signal_var > 0 else 0.0
    if phi_particles is None:
        p_hat[:] = 0
    return p_hat, scale


def _ice_texture(
    rng: np.random.Generator,
    cfg: SimulationConfig,
    canvas: _Canvas,
    scene: _Scene,
    h: np.ndarray,
    mean_counts: float,
    scale: float,
) -> np.ndarray:
    """Amorphous-ice phase noise scaled with the local ice thickness (stronger on carbon): gives Thon rings."""
    spectral = _spectral_mean(h.astype(np.float64) ** 2, canvas.n)
    sigma = np.sqrt(cfg.ice_texture / (mean_counts * spectral)) / scale
    texture = rng.standard_normal(canvas.shape, dtype=np.float32)
    texture *= np.sqrt(scene.ice / cfg.ice_thickness) * (1 + _CARBON_TEXTURE * scene.carbon) * sigma
    return texture


def _tables(cfg: SimulationConfig, canvas: _Canvas, scene: _Scene) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The particles (position, aggregate, orientation, on carbon, near contamination) and the junk tables."""
    positions = scene.positions
    euler = scene.rotations.as_euler("ZYZ", degrees=True) if scene.rotations is not None else np.zeros((0, 3))
    ix = np.clip(np.rint(positions[:, 0]).astype(int) + canvas.pad, 0, canvas.n - 1)
    iy = np.clip(np.rint(positions[:, 1]).astype(int) + canvas.pad, 0, canvas.n - 1)
    particles = pd.DataFrame(
        {
            "x": positions[:, 0],
            "y": positions[:, 1],
            "is_aggregate": scene.is_aggregate,
            "aggregate_id": scene.group,
            "rot": euler[:, 0],
            "tilt": euler[:, 1],
            "psi": euler[:, 2],
            "on_carbon": scene.carbon[iy, ix] > 0.5,
            "near_contamination": scene.contamination[iy, ix] > 0,
        }
    )
    radius_px = cfg.particle_radius / cfg.pixel_size
    junk_r = scene.junk_radii
    kind = np.where(junk_r < 0.7 * radius_px, "small", np.where(junk_r > 1.3 * radius_px, "large", "similar"))
    junk = pd.DataFrame(
        {"x": scene.junk_positions[:, 0], "y": scene.junk_positions[:, 1], "radius": junk_r, "kind": kind}
    )
    return particles, junk


# --------------------------------------------------------------------------------------------------
# Data set


def _simulate_all(cfg: SimulationConfig, processes: int) -> Iterator[tuple[np.ndarray, pd.DataFrame, pd.DataFrame]]:
    """Every micrograph of ``cfg`` in index order, simulated in ``processes`` worker processes."""
    simulate = functools.partial(simulate_micrograph, cfg)
    if processes <= 1:
        yield from map(simulate, range(cfg.micrographs))
        return
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        yield from pool.imap(simulate, range(cfg.micrographs))


def write_dataset(cfg: SimulationConfig, outdir: str | os.PathLike[str], processes: int = 1) -> dict[str, Any]:
    """Simulate ``cfg.micrographs`` micrographs into ``outdir`` (in ``processes`` worker processes; the same
    files for any number).

    Writes ``micrographs/NAME.mrc`` (float32, voxel size = pixel size), ``ground_truth.csv``
    (``micrograph, x, y, is_aggregate``: every true particle), ``junk.csv``, ``labels.csv`` and
    ``labels.star`` (the partial, jittered labels) and ``simulation.json`` (config + per-micrograph
    settings). Returns the contents of ``simulation.json``.
    """
    out = Path(outdir)
    (out / "micrographs").mkdir(parents=True, exist_ok=True)
    truth, junk_tables, labels, meta = [], [], [], []
    for index, (image, particles, junk) in enumerate(_simulate_all(cfg, processes)):
        name = micrograph_name(index)
        write_mrc(out / "micrographs" / f"{name}.mrc", image, cfg.pixel_size)
        label_rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(_LABEL_STREAM, index)))
        chosen = select_labels(particles, cfg.label_fraction, cfg.label_jitter, label_rng, cfg.image_size)
        truth.append(particles[["x", "y", "is_aggregate"]].assign(micrograph=name))
        junk_tables.append(junk.assign(micrograph=name))
        labels.append(chosen[["x", "y"]].assign(micrograph=name))
        meta.append({**particles.attrs["micrograph"], "labels": len(chosen)})
        log.info("%s: %d particles, %d labels, %d junk", name, len(particles), len(chosen), len(junk))

    def table(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
        return (
            cast(pd.DataFrame, pd.concat(frames, ignore_index=True)[columns])
            if frames
            else pd.DataFrame(columns=columns)
        )

    truth_df = table(truth, ["micrograph", "x", "y", "is_aggregate"])
    labels_df = table(labels, ["micrograph", "x", "y"])
    with atomic_path(out / "ground_truth.csv") as tmp:
        truth_df.to_csv(tmp, index=False, float_format="%.2f")
    with atomic_path(out / "junk.csv") as tmp:
        table(junk_tables, ["micrograph", "x", "y", "radius", "kind"]).to_csv(tmp, index=False, float_format="%.2f")
    with atomic_path(out / "labels.csv") as tmp:
        labels_df.to_csv(tmp, index=False, float_format="%.2f")
    star = pd.DataFrame(
        {
            "rlnMicrographName": labels_df["micrograph"].astype(str) + ".mrc",
            "rlnCoordinateX": labels_df["x"].astype(float).round(2),
            "rlnCoordinateY": labels_df["y"].astype(float).round(2),
        }
    )
    with atomic_path(out / "labels.star") as tmp:
        starfile.write(star, tmp, overwrite=True)
    summary = {"config": cfg.to_dict(), "micrographs": meta}
    write_json(out / "simulation.json", json.loads(json.dumps(summary, default=float)))
    return summary
