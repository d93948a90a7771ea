"""Crop minibatches: shapes, positive counts, reproducibility, unlabeled exclusion, rotation/flip."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pickflow.errors import TrainingError
from pickflow.training.sampling import CropSampler

CROP = 7


class _FixedRandom:
    """Stand-in generator for ``_rotate_flip``: ``random()`` returns the given arrays in turn."""

    def __init__(self, *values):
        self.values = list(values)

    def random(self, size):
        value = np.broadcast_to(np.asarray(self.values.pop(0), dtype=float), size)
        return value.copy()


def _no_rotation(n):
    # angle = 0; flip draws >= 0.5 mean "no flip"
    return _FixedRandom(np.zeros(n), np.full((n, 2), 0.75))


class _UnrotatedSampler(CropSampler):
    """CropSampler whose crops are cut without rotation or flip."""

    def _rotate_flip(self, patches, rng):
        return super()._rotate_flip(patches, _no_rotation(patches.shape[0]))


def _numbered_images(shapes, offset=1000):
    """Images whose pixel values (1, 2, ...; +offset per micrograph) identify the pixel."""
    return [
        (i * offset + 1 + np.arange(ny * nx)).reshape(ny, nx).astype(np.float32) for i, (ny, nx) in enumerate(shapes)
    ]


def _centre_pixels(crops, shapes, offset=1000):
    """(micrograph, y, x) of each crop centre, decoded from the numbered pixel values."""
    values = np.rint(crops[:, 0, CROP // 2, CROP // 2].numpy()).astype(int) - 1
    mic = values // offset
    index = values % offset
    widths = np.array([s[1] for s in shapes])[mic]
    return mic, index // widths, index % widths


def _left_half_positives(shapes):
    out = []
    for ny, nx in shapes:
        mask = np.zeros((ny, nx), dtype=bool)
        mask[:, : nx // 2] = True
        out.append(mask)
    return out


@pytest.mark.parametrize(("minibatch", "fraction", "n_pos"), [(10, 0.3, 3), (16, 0.25, 4), (8, 0.0, 0), (5, 1.0, 5)])
def test_batch_shape_and_positive_count(minibatch, fraction, n_pos):
    rng = np.random.default_rng(0)
    images = [rng.normal(size=(20, 24)).astype(np.float32), rng.normal(size=(15, 18)).astype(np.float32)]
    positives = [np.zeros((20, 24), bool), np.zeros((15, 18), bool)]
    positives[0][5, 6] = positives[1][10, 2] = positives[1][3, 3] = True
    sampler = CropSampler(images, positives, CROP, fraction, minibatch, exclude_positives=False)
    crops, labels = sampler.sample(np.random.default_rng(1))
    assert crops.shape == (minibatch, 1, CROP, CROP)
    assert crops.dtype == torch.float32
    assert labels.dtype == torch.bool
    assert int(labels.sum()) == n_pos
    assert labels[:n_pos].all() and not labels[n_pos:].any()


def test_positive_crops_are_centred_on_positive_pixels():
    shapes = [(12, 14), (9, 11)]
    images = _numbered_images(shapes)
    positives = [np.zeros(s, bool) for s in shapes]
    positives[0][2, 3] = positives[0][8, 10] = positives[1][4, 0] = True
    sampler = CropSampler(images, positives, CROP, 0.5, 40, exclude_positives=False)
    crops, labels = sampler.sample(np.random.default_rng(5))
    mic, ys, xs = _centre_pixels(crops[labels], shapes)
    centres = set(zip(mic.tolist(), ys.tolist(), xs.tolist(), strict=True))
    assert centres <= {(0, 2, 3), (0, 8, 10), (1, 4, 0)}
    assert len(centres) >= 2


def test_no_positive_pixel_raises():
    with pytest.raises(ValueError, match="no labeled positive pixel"):
        CropSampler([np.ones((8, 8))], [np.zeros((8, 8), bool)], CROP, 0.5, 4, exclude_positives=False)


def test_no_unlabeled_pixel_is_a_training_error():
    with pytest.raises(TrainingError, match=r"every pixel .* is labeled positive.*train\.label_radius"):
        CropSampler([np.ones((8, 8))], [np.ones((8, 8), bool)], CROP, 0.5, 4, exclude_positives=True)


def test_one_unlabeled_pixel_among_many_is_found_without_recursion():
    shapes = [(40, 40)]
    positives = [np.ones(shapes[0], bool)]
    positives[0][17, 23] = False
    sampler = _UnrotatedSampler(_numbered_images(shapes), positives, CROP, 0.0, 8, exclude_positives=True)
    crops, _ = sampler.sample(np.random.default_rng(0))  # ~1600 draws per crop: recursion overflowed the stack
    mic, ys, xs = _centre_pixels(crops, shapes)
    assert set(zip(mic, ys, xs, strict=True)) == {(0, 17, 23)}


def test_same_seed_same_batches():
    rng = np.random.default_rng(0)
    images = [rng.normal(size=(30, 26)).astype(np.float32) for _ in range(2)]
    positives = [rng.random((30, 26)) < 0.05 for _ in range(2)]

    def batches(seed):
        sampler = CropSampler(images, positives, CROP, 0.25, 12, exclude_positives=True)
        gen = np.random.default_rng(seed)
        return [sampler.sample(gen) for _ in range(3)]

    first, second, other = batches(42), batches(42), batches(43)
    for (c1, l1), (c2, l2) in zip(first, second, strict=True):
        torch.testing.assert_close(c1, c2, rtol=0, atol=0)
        assert torch.equal(l1, l2)
    assert not torch.equal(first[0][0], other[0][0])
    # successive batches from one generator differ
    assert not torch.equal(first[0][0], first[1][0])


def test_unlabeled_crops_avoid_positive_pixels():
    shapes = [(10, 10), (6, 8)]
    images = _numbered_images(shapes)
    positives = _left_half_positives(shapes)
    excluding = CropSampler(images, positives, CROP, 0.0, 64, exclude_positives=True)
    including = CropSampler(images, positives, CROP, 0.0, 64, exclude_positives=False)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    hits_including = 0
    seen = set()
    for _ in range(5):
        crops, labels = excluding.sample(rng_a)
        assert not labels.any()
        mic, ys, xs = _centre_pixels(crops, shapes)
        for m, y, x in zip(mic, ys, xs, strict=True):
            assert not positives[m][y, x], f"unlabeled crop centred on positive pixel {(m, y, x)}"
            seen.add((m, y, x))
        crops, _ = including.sample(rng_b)
        mic, ys, xs = _centre_pixels(crops, shapes)
        hits_including += sum(bool(positives[m][y, x]) for m, y, x in zip(mic, ys, xs, strict=True))
    assert {m for m, _, _ in seen} == {0, 1}  # both micrographs are drawn
    assert len(seen) > 20
    assert hits_including > 0  # without exclusion, half the draws land on positives


def test_unrotated_crop_equals_image_patch():
    shapes = [(13, 11), (9, 16)]
    images = _numbered_images(shapes)
    positives = [np.zeros(s, bool) for s in shapes]
    positives[0][0, 0] = positives[1][8, 15] = True  # corners: crops reach into the zero padding
    sampler = _UnrotatedSampler(images, positives, CROP, 0.5, 24, exclude_positives=False)
    crops, _ = sampler.sample(np.random.default_rng(9))
    mic, ys, xs = _centre_pixels(crops, shapes)
    half = CROP // 2
    for i, (m, y, x) in enumerate(zip(mic, ys, xs, strict=True)):
        padded = np.pad(images[m], half)
        expected = padded[y : y + CROP, x : x + CROP]
        np.testing.assert_allclose(crops[i, 0].numpy(), expected, rtol=0, atol=1e-3)


def _sampler_for_rotation():
    images = [np.zeros((10, 10), np.float32)]
    positives = [np.ones((10, 10), bool)]
    return CropSampler(images, positives, CROP, 0.5, 2, exclude_positives=False)


def test_rotate_flip_identity_is_exact_centre_crop():
    sampler = _sampler_for_rotation()
    big = sampler.big
    assert big >= math.ceil(CROP * math.sqrt(2))
    assert (big - CROP) % 2 == 0
    off = (big - CROP) // 2
    g = torch.Generator().manual_seed(0)
    patches = torch.randn(3, 1, big, big, generator=g)
    out = sampler._rotate_flip(patches, _no_rotation(3))
    torch.testing.assert_close(out, patches[:, :, off : off + CROP, off : off + CROP], atol=1e-5, rtol=0)


def test_rotate_flip_mirror_and_quarter_turn():
    sampler = _sampler_for_rotation()
    big = sampler.big
    off = (big - CROP) // 2
    g = torch.Generator().manual_seed(1)
    patches = torch.randn(1, 1, big, big, generator=g)
    centre = patches[:, :, off : off + CROP, off : off + CROP]
    # flip draw < 0.5 on the first axis: x is mirrored (columns reversed)
    mirrored = sampler._rotate_flip(patches, _FixedRandom([0.0], [[0.1, 0.9]]))
    torch.testing.assert_close(mirrored, centre.flip(-1), atol=1e-5, rtol=0)
    # second axis: rows reversed
    flipped = sampler._rotate_flip(patches, _FixedRandom([0.0], [[0.9, 0.1]]))
    torch.testing.assert_close(flipped, centre.flip(-2), atol=1e-5, rtol=0)
    # angle 2*pi*0.25 = 90 degrees: an exact quarter turn of the centre crop
    turned = sampler._rotate_flip(patches, _FixedRandom([0.25], [[0.9, 0.9]]))
    # out[i, j] = in[j, n-1-i], i.e. numpy/torch rot90 with k=1
    torch.testing.assert_close(turned, torch.rot90(centre, 1, dims=(-2, -1)), atol=1e-4, rtol=0)
    assert not torch.allclose(turned, centre, atol=1e-2)
    # rotation keeps the centre pixel fixed for any angle
    for angle in (0.1, 0.37, 0.8):
        out = sampler._rotate_flip(patches, _FixedRandom([angle], [[0.9, 0.9]]))
        assert out[0, 0, CROP // 2, CROP // 2].item() == pytest.approx(
            patches[0, 0, big // 2, big // 2].item(), abs=1e-4
        )
