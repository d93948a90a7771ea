"""The preprocessed micrographs on disk: the .json record and the .mrc cache a job regenerates when it was purged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pickflow.errors import InputError
from pickflow.io.micrographs import write_mrc
from pickflow.preprocess.preprocessed import read_meta, read_preprocessed, write_preprocessed

PARAMS = {"pixel_size": 2.0, "downsample": 2, "target_pixel_size": None, "lowpass": None, "normalize": "gmm", "seed": 3}


@pytest.fixture
def written(tmp_path):
    raw = tmp_path / "raw" / "mic_1.mrc"
    raw.parent.mkdir()
    write_mrc(raw, np.random.default_rng(0).normal(size=(128, 96)).astype(np.float32), 2.0)
    record = tmp_path / "pre" / "mic_1.json"
    write_preprocessed(raw, record, PARAMS, identity="abc")
    return record


def test_the_record_names_its_source_settings_and_identity(written):
    meta = read_meta(written)
    assert meta["source"].endswith("raw/mic_1.mrc") and meta["params"] == PARAMS and meta["identity"] == "abc"
    assert read_meta(written.with_suffix(".mrc")) == meta
    assert read_preprocessed(written).shape == tuple(meta["shape"]) == (64, 48)


def test_a_purged_mrc_is_regenerated_with_the_same_pixels(written):
    mrc = written.with_suffix(".mrc")
    first = read_preprocessed(mrc)
    mrc.unlink()
    again = read_preprocessed(mrc)
    assert mrc.exists()
    np.testing.assert_array_equal(again, first)


def test_a_purged_mrc_of_an_old_record_without_settings_is_a_clear_error(written):
    meta = json.loads(written.read_text())
    del meta["params"]
    written.write_text(json.dumps(meta))
    written.with_suffix(".mrc").unlink()
    with pytest.raises(InputError, match=r"mic_1\.mrc is missing .*delete the \.json too"):
        read_preprocessed(written)


def test_an_unreadable_record_is_named(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(InputError, match=r"x\.json: cannot read"):
        read_meta(tmp_path / "x.mrc")
