"""Picks as a cryoSPARC particle dataset, read back with cryosparc-tools."""

from __future__ import annotations

import numpy as np
import pandas as pd
from cryosparc.dataset import Dataset

from pickflow.io.coordinates import read_coordinate_file
from pickflow.io.cryosparc import write_particles_cs
from pickflow.io.micrographs import read_shape


def test_particles_cs_reads_back_as_pickflows_coordinates(tmp_path, real_mrc, real_star):
    """The real 959 x 927 micrograph (not square, so rows and columns cannot be swapped unseen)."""
    picks = read_coordinate_file(real_star).assign(micrograph="Ucsf_stack_1142_DW")
    paths = {"Ucsf_stack_1142_DW": "MotionCorr/job002/Movies/Ucsf_stack_1142_DW.mrc"}
    shapes = {"Ucsf_stack_1142_DW": read_shape(real_mrc)}
    assert shapes["Ucsf_stack_1142_DW"] == (927, 959)
    write_particles_cs(picks, paths, shapes, tmp_path / "particles.cs")

    cs = Dataset.load(tmp_path / "particles.cs")
    assert len(cs) == len(picks) == 45
    assert set(cs["location/micrograph_path"]) == {"MotionCorr/job002/Movies/Ucsf_stack_1142_DW.mrc"}
    assert (cs["location/micrograph_shape"] == [927, 959]).all()
    x = cs["location/center_x_frac"] * cs["location/micrograph_shape"][:, 1]
    y = cs["location/center_y_frac"] * cs["location/micrograph_shape"][:, 0]
    np.testing.assert_allclose(x, picks["x"], atol=1e-3)
    np.testing.assert_allclose(y, picks["y"], atol=1e-3)
    np.testing.assert_allclose(cs["pickflow/score"], picks["score"], rtol=1e-6)
    assert len(np.unique(cs["uid"])) == 45


def test_particles_cs_is_the_same_file_on_a_rerun(tmp_path):
    picks = pd.DataFrame({"micrograph": ["a", "b"], "x": [1.0, 2.0], "y": [3.0, 4.0], "score": [0.5, 0.1]})
    args = (picks, {"a": "Movies/a.mrc", "b": "Movies/b.mrc"}, {"a": (10, 20), "b": (10, 20)})
    write_particles_cs(*args, tmp_path / "one.cs")
    write_particles_cs(*args, tmp_path / "two.cs")
    assert (tmp_path / "one.cs").read_bytes() == (tmp_path / "two.cs").read_bytes()


def test_no_picks_give_an_empty_dataset(tmp_path):
    empty = pd.DataFrame({"micrograph": [], "x": [], "y": [], "score": []})
    write_particles_cs(empty, {}, {}, tmp_path / "particles.cs")
    cs = Dataset.load(tmp_path / "particles.cs")
    assert len(cs) == 0 and "location/center_x_frac" in cs.fields()
