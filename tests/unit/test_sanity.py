"""Warnings for input that is legal but most likely a mistake, each with the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pickflow.io.micrographs import Header, read_header, write_mrc
from pickflow.workflow.sanity import (
    binned_coordinates_warning,
    duplicate_labels_warning,
    input_warnings,
    particle_size_warning,
    pixel_size_warning,
)

HEADERS = {"a": Header((1000, 1200)), "b": Header((800, 900))}


def _config(diameter=200.0, pixel_size=2.0, downsample=4, target=None) -> dict:
    return {
        "particle_diameter": diameter,
        "micrographs": {"pixel_size": pixel_size},
        "preprocess": {"downsample": downsample, "target_pixel_size": target},
        "labels": {"coordinates": "labels.star"},
        "train": {"model": "resnet8", "init": "scratch"},
        "pick": {"model": "trained"},
    }


def _labels(rng, n=40, extent=(1200, 800)) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "micrograph": ["a"] * (n // 2) + ["b"] * (n - n // 2),
            "x": rng.uniform(0, extent[0] * 0.7, n),
            "y": rng.uniform(0, extent[1] * 0.95, n),
        }
    )


def test_particle_larger_than_the_smallest_micrograph():
    assert particle_size_warning(_config(diameter=2000, pixel_size=2.5), HEADERS) is None  # 800 px: fits
    warning = particle_size_warning(_config(diameter=2500, pixel_size=2.5), HEADERS)
    assert warning.startswith("particle_diameter 2500 Å is 1000 pixels at micrographs.pixel_size 2.5 Å")
    assert "larger than the smallest micrograph (800 pixels across)" in warning
    assert "in Å, not pixels" in warning
    assert particle_size_warning(_config(diameter=200), HEADERS) is None


def test_particle_smaller_than_a_preprocessed_pixel():
    warning = particle_size_warning(_config(diameter=6, pixel_size=1.0, downsample=8), HEADERS)
    assert warning.startswith("particle_diameter 6 Å is smaller than one preprocessed pixel (8 Å)")
    assert "lower preprocess.downsample or preprocess.target_pixel_size" in warning
    assert particle_size_warning(_config(diameter=6, pixel_size=1.0, target=5.0), HEADERS) is None


def test_duplicated_coordinates_within_a_pixel(rng):
    labels = _labels(rng)
    assert duplicate_labels_warning(labels) is None
    repeated = labels.iloc[[0, 25]].assign(x=lambda t: t["x"] + 0.4)
    warning = duplicate_labels_warning(pd.concat([labels, repeated], ignore_index=True))
    assert warning.startswith("2 labels repeat another label of the same micrograph (within 1 px), e.g. a (")
    assert "can flip the loss to PN" in warning and "Remove the duplicates" in warning
    # the same x, y on another micrograph is no duplicate
    other = labels.iloc[[0]].assign(micrograph="b")
    assert duplicate_labels_warning(pd.concat([labels, other], ignore_index=True)) is None


@pytest.mark.parametrize("k", [2, 4, 8])
def test_coordinates_all_in_the_first_1_over_k_of_the_image(rng, k):
    labels = _labels(rng)
    assert binned_coordinates_warning(labels, HEADERS) is None
    binned = labels.assign(x=labels["x"] / k, y=labels["y"] / k)
    warning = binned_coordinates_warning(binned, HEADERS)
    assert warning.startswith(f"all 40 labels lie in the first 1/{k} of their micrographs")
    assert f"picked on {k}x binned images" in warning and f"multiply them by {k}" in warning


def test_few_labels_are_not_called_binned(rng):
    assert binned_coordinates_warning(_labels(rng, n=6).assign(x=1.0, y=1.0), HEADERS) is None


def test_pixel_size_disagreeing_with_the_mrc_header(tmp_path, rng):
    image = rng.normal(size=(32, 48)).astype(np.float32)
    write_mrc(tmp_path / "m1.mrc", image, 1.06)
    write_mrc(tmp_path / "m2.mrc", image, 1.06)
    headers = {key: read_header(tmp_path / f"{key}.mrc") for key in ("m1", "m2")}
    assert headers["m1"] == Header((32, 48), pytest.approx(1.06, rel=1e-5))
    assert pixel_size_warning(1.06, headers) is None
    assert pixel_size_warning(1.07, headers) is None  # within 2 %
    warning = pixel_size_warning(2.12, headers)
    assert warning.startswith("micrographs.pixel_size is 2.12 Å but the MRC header of 2 micrograph(s)")
    assert "e.g. m1: 1.06 Å" in warning and "Check micrographs.pixel_size" in warning


def test_a_header_without_pixel_size_is_not_compared(tmp_path, rng):
    write_mrc(tmp_path / "m.mrc", rng.normal(size=(16, 16)).astype(np.float32), 0.0)
    assert read_header(tmp_path / "m.mrc").pixel_size is None
    assert pixel_size_warning(3.0, {"m": read_header(tmp_path / "m.mrc")}) is None


def test_input_warnings_collects_every_warning(rng):
    labels = _labels(rng)
    assert input_warnings(_config(), labels, HEADERS) == []
    doubled = pd.concat([labels, labels], ignore_index=True).assign(x=lambda t: t["x"] / 4, y=lambda t: t["y"] / 4)
    warnings = input_warnings(_config(diameter=5000), doubled, HEADERS)
    assert len(warnings) == 3
    assert warnings[0].startswith("particle_diameter 5000 Å")
    assert "labels repeat another label" in warnings[1] and warnings[2].startswith("all 80 labels lie")
