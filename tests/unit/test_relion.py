"""Picks in RELION's own layout: per-micrograph STARs where Extract looks, and the coordinate_files node."""

from __future__ import annotations

import pandas as pd
import pytest
import starfile

from pickflow.io.relion import coordinate_file_name, relion_post_name, write_relion_picks


@pytest.mark.parametrize(
    ("name", "post", "coordinates"),
    [
        ("Movies/mic1.mrc", "Movies/mic1.mrc", "Movies/mic1_pickflow.star"),
        ("MotionCorr/job002/Movies/mic1.mrc", "Movies/mic1.mrc", "Movies/mic1_pickflow.star"),
        ("CtfFind/job004/mic.2.tiff", "mic.2.tiff", "mic.2_pickflow.star"),
        ("data/job12/a.mrc", "data/job12/a.mrc", "data/job12/a_pickflow.star"),  # not a job dir: 3 digits needed
        ("/data/run1/a.mrc", "/data/run1/a.mrc", "data/run1/a_pickflow.star"),
        ("../raw/a.mrc", "../raw/a.mrc", "__/raw/a_pickflow.star"),
    ],
)
def test_coordinate_file_names_follow_relions_extract_lookup(name, post, coordinates):
    assert relion_post_name(name) == post
    assert coordinate_file_name(name) == coordinates


@pytest.fixture
def written(tmp_path, monkeypatch):
    """Picks of two micrographs (one of three has none) written from inside a RELION-like project dir."""
    monkeypatch.chdir(tmp_path)
    picks = pd.DataFrame(
        {
            "micrograph": ["a", "a", "b"],
            "x": [10.5, 200.0, 31.25],
            "y": [20.0, 300.5, 40.0],
            "score": [2.5, 1.0, 0.5],
        }
    )
    paths = {"a": "MotionCorr/job002/Movies/a.mrc", "b": "MotionCorr/job002/Movies/b.mrc", "c": "Movies/c.tiff"}
    table = write_relion_picks(picks, paths, "results/picks/relion", "results/picks/coordinate_files.star")
    return tmp_path, picks, paths, table


def test_each_micrograph_gets_a_coordinate_star_named_by_its_input_path(written):
    root = written[0]
    a = starfile.read(root / "results/picks/relion/Movies/a_pickflow.star")
    assert list(a.columns) == ["rlnCoordinateX", "rlnCoordinateY", "rlnAutopickFigureOfMerit", "rlnMicrographName"]
    assert a["rlnCoordinateX"].tolist() == [10.5, 200.0] and a["rlnCoordinateY"].tolist() == [20.0, 300.5]
    assert a["rlnAutopickFigureOfMerit"].tolist() == [2.5, 1.0]
    assert set(a["rlnMicrographName"]) == {"MotionCorr/job002/Movies/a.mrc"}
    b = starfile.read(root / "results/picks/relion/Movies/b_pickflow.star")
    assert b["rlnCoordinateX"].tolist() == [31.25]
    # A micrograph without picks gets a header-only file, so that RELION does not report it missing.
    empty = starfile.read(root / "results/picks/relion/Movies/c_pickflow.star")
    assert empty.empty and "rlnCoordinateX" in empty.columns


def test_coordinate_files_node_has_relion5s_block_and_columns(written):
    root, _, paths, table = written
    text = (root / "results/picks/coordinate_files.star").read_text()
    assert "data_coordinate_files" in text
    node = starfile.read(root / "results/picks/coordinate_files.star", always_dict=True)
    assert list(node) == ["coordinate_files"]
    rows = node["coordinate_files"]
    assert list(rows.columns) == ["rlnMicrographName", "rlnMicrographCoordinates"]
    assert rows["rlnMicrographName"].tolist() == [paths[k] for k in sorted(paths)]
    # Paths relative to the project directory (where the workflow ran), each an existing file.
    assert rows["rlnMicrographCoordinates"].tolist() == [
        "results/picks/relion/Movies/a_pickflow.star",
        "results/picks/relion/Movies/b_pickflow.star",
        "results/picks/relion/Movies/c_pickflow.star",
    ]
    assert all((root / p).is_file() for p in rows["rlnMicrographCoordinates"])
    pd.testing.assert_frame_equal(rows, table)


def test_relion31_suffix_node_sits_in_the_coordinate_directory(written):
    root = written[0]
    assert (root / "results/picks/relion/coords_suffix_pickflow.star").read_text() == "_pickflow.star\n"
