"""Fourier resampling, lowpass, output shapes and GMM / affine normalization."""

from __future__ import annotations

import numpy as np
import pytest

from pickflow.preprocess.image import (
    fit_gmm,
    fourier_resample,
    micrograph_rng,
    normalize,
    output_shape,
    preprocess_image,
)


@pytest.mark.parametrize("shape", [(32, 32), (21, 21), (45, 37), (17, 50), (64, 64)])
def test_fourier_resample_preserves_mean(rng, shape):
    image = rng.normal(3.0, 1.0, size=(64, 64)) + np.linspace(0, 5, 64)[None, :]
    out = fourier_resample(image, shape)
    assert out.shape == shape
    assert out.dtype == np.float32
    assert float(out.mean()) == pytest.approx(float(image.mean()), rel=1e-4)


def _cosines(ny, nx, terms):
    """Sum of amp*cos(2*pi*(ky*y/ny + kx*x/nx) + phase) with integer ky, kx (cycles per image)."""
    y, x = np.mgrid[0:ny, 0:nx]
    out = np.full((ny, nx), 2.0)
    for amp, ky, kx, phase in terms:
        out += amp * np.cos(2 * np.pi * (ky * y / ny + kx * x / nx) + phase)
    return out


def test_band_limited_image_downsampled_by_two_is_exact():
    terms = [(1.0, 3, 0, 0.3), (0.5, 0, 5, -1.0), (0.7, 4, -6, 2.0), (0.3, -7, 2, 0.0)]
    fine = _cosines(64, 48, terms)
    coarse = fourier_resample(fine, (32, 24))
    # the same cosines (same cycles per image) sampled on the coarse grid: coarse pixel j = fine pixel 2j
    expected = _cosines(32, 24, terms)
    np.testing.assert_allclose(coarse, expected, atol=1e-3, rtol=0)
    np.testing.assert_allclose(coarse, fine[::2, ::2], atol=1e-3, rtol=0)


def test_output_shape_downsample_and_target_pixel_size():
    assert output_shape((927, 959), 1.0, 2, None) == (463, 479)
    assert output_shape((927, 959), 1.0, None, None) == (927, 959)
    assert output_shape((1000, 800), 1.5, None, 6.0) == (250, 200)
    # target pixel size wins over downsample
    assert output_shape((1000, 800), 1.0, 2, 4.0) == (250, 200)
    assert output_shape((1000, 800), 1.0, None, 3.3) == (303, 242)
    with pytest.raises(ValueError, match="upsample"):
        output_shape((100, 100), 2.0, None, 1.0)


def _amplitude(image, ky, kx):
    """Amplitude of the integer-frequency cosine component (ky, kx) of ``image``."""
    spectrum = np.fft.fft2(image)
    return 2 * abs(spectrum[ky, kx]) / image.size


def test_lowpass_half_amplitude_at_cutoff():
    n = 64
    cutoff = 8 / n  # cycles per pixel
    high = _cosines(n, n, [(1.0, 0, 8, 0.0)])  # exactly at the cutoff
    low = _cosines(n, n, [(1.0, 1, 0, 0.0)])  # 1/64 cycles per pixel
    filtered_high = fourier_resample(high, (n, n), lowpass_cutoff_px=cutoff)
    filtered_low = fourier_resample(low, (n, n), lowpass_cutoff_px=cutoff)
    ratio_high = _amplitude(filtered_high, 0, 8) / _amplitude(high, 0, 8)
    ratio_low = _amplitude(filtered_low, 1, 0) / _amplitude(low, 1, 0)
    assert ratio_high == pytest.approx(0.5, abs=0.05)
    assert ratio_low > 0.98
    # the mean (DC) is untouched by the lowpass
    assert float(filtered_high.mean()) == pytest.approx(2.0, rel=1e-5)


def test_lowpass_cutoff_is_on_output_grid():
    """After downsampling 2x, a cutoff of 8/32 output cycles/pixel halves the 8-cycles-per-image cosine."""
    fine = _cosines(64, 64, [(1.0, 8, 0, 0.0)])
    out = fourier_resample(fine, (32, 32), lowpass_cutoff_px=8 / 32)
    assert _amplitude(out, 8, 0) == pytest.approx(0.5, abs=0.05)


def _two_population_image(seed=0, shape=(200, 200)):
    rng = np.random.default_rng(seed)
    n = shape[0] * shape[1]
    dominant = np.ones(n, dtype=bool)
    dominant[: n // 10] = False
    rng.shuffle(dominant)
    values = np.where(dominant, rng.normal(5.0, 2.0, n), rng.normal(-10.0, 2.0, n))
    return values.reshape(shape).astype(np.float32), dominant.reshape(shape)


def test_fit_gmm_recovers_dominant_component():
    image, _ = _two_population_image()
    fit = fit_gmm(image, np.random.default_rng(1))
    assert fit.mu == pytest.approx(5.0, abs=0.1)
    assert fit.std == pytest.approx(2.0, abs=0.1)
    assert fit.pi == pytest.approx(0.9, abs=0.02)
    assert np.isfinite(fit.logp)


def test_fit_gmm_single_gaussian_when_unimodal(rng):
    image = rng.normal(1.0, 3.0, size=(100, 100))
    fit = fit_gmm(image, np.random.default_rng(0))
    assert fit.mu == pytest.approx(1.0, abs=0.3)
    assert fit.std == pytest.approx(3.0, abs=0.2)


def test_normalize_gmm_standardizes_dominant_population():
    image, dominant = _two_population_image(seed=2)
    out, stats = normalize(image, "gmm", np.random.default_rng(3))
    assert out.dtype == np.float32
    assert stats["method"] == "gmm"
    assert set(stats) == {"method", "mu", "std", "pi", "logp"}
    assert float(out[dominant].mean()) == pytest.approx(0.0, abs=0.05)
    assert float(out[dominant].std()) == pytest.approx(1.0, abs=0.05)
    np.testing.assert_allclose(out, (image - stats["mu"]) / stats["std"], rtol=1e-5, atol=1e-5)


def test_normalize_affine_and_none(rng):
    image = rng.normal(7.0, 4.0, size=(50, 60)).astype(np.float32)
    out, stats = normalize(image, "affine", rng)
    assert float(out.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(out.std()) == pytest.approx(1.0, abs=1e-5)
    assert stats["mu"] == pytest.approx(float(image.mean()))
    assert stats["std"] == pytest.approx(float(image.std()))
    same, stats = normalize(image, "none", rng)
    np.testing.assert_array_equal(same, image)
    assert stats == {"method": "none"}
    with pytest.raises(ValueError, match="unknown normalization 'zscore'"):
        normalize(image, "zscore", rng)


def test_gmm_fit_reproducible_for_a_seed():
    image, _ = _two_population_image(seed=4, shape=(120, 120))
    a = fit_gmm(image, np.random.default_rng(7))
    b = fit_gmm(image, np.random.default_rng(7))
    assert a == b


def test_micrograph_rng_depends_on_seed_and_name():
    def draw(seed, key):
        return micrograph_rng(seed, key).random(5)

    np.testing.assert_array_equal(draw(0, "mic_a"), draw(0, "mic_a"))
    assert not np.array_equal(draw(0, "mic_a"), draw(0, "mic_b"))
    assert not np.array_equal(draw(0, "mic_a"), draw(1, "mic_a"))


def test_preprocess_image_metadata(rng):
    image = rng.normal(100.0, 5.0, size=(80, 60)).astype(np.float32)
    params = {"pixel_size": 1.5, "downsample": 2, "normalize": "affine", "seed": 0, "lowpass": None}
    out, meta = preprocess_image(image, "mic", params)
    assert out.shape == (40, 30)
    assert meta["shape"] == [40, 30]
    assert meta["input_shape"] == [80, 60]
    assert meta["scale"] == [2.0, 2.0]
    assert meta["pixel_size"] == pytest.approx(3.0)
    assert meta["output"]["mean"] == pytest.approx(0.0, abs=1e-5)
    assert meta["output"]["std"] == pytest.approx(1.0, abs=1e-5)
