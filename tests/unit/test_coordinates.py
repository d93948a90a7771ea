"""Coordinate files: STAR, Topaz, CSV, EMAN .box; name resolution, bounds and atomic writers."""

from __future__ import annotations

import errno
import os
import re

import numpy as np
import pandas as pd
import pytest
import starfile

from pickflow.errors import InputError
from pickflow.io.atomic import atomic_path
from pickflow.io.coordinates import (
    check_inside,
    detect_format,
    read_coordinate_file,
    read_labels,
    resolve_names,
    write_box,
    write_csv,
    write_star,
    write_topaz,
)
from pickflow.io.inputs import load_checked_labels
from pickflow.io.micrographs import read_shape

KEY = "Ucsf_stack_1142_DW"


def test_real_star_without_micrograph_name(real_star):
    table = read_coordinate_file(real_star)
    assert len(table) == 45
    assert set(table["micrograph"]) == {"Ucsf_stack_1142_DW_autopick"}
    assert table["from_file"].all()
    assert table.loc[0, "x"] == pytest.approx(839.125024)
    assert table.loc[0, "y"] == pytest.approx(19.979167)
    assert table.loc[0, "score"] == pytest.approx(0.624705)
    resolved = resolve_names(table, [KEY, "Ucsf_stack_1142"], str(real_star))
    # the key + a known suffix; 'Ucsf_stack_1142' + '_DW_autopick' is not one
    assert set(resolved["micrograph"]) == {KEY}
    assert "from_file" not in resolved.columns
    np.testing.assert_allclose(resolved["x"], table["x"])


def test_real_star_labels_inside_real_micrograph(real_mrc, real_star):
    labels = load_checked_labels({KEY: real_mrc}, [real_star])
    assert list(labels.columns) == ["micrograph", "x", "y"]
    assert len(labels) == 45
    assert (labels["micrograph"] == KEY).all()
    ny, nx = read_shape(real_mrc)
    assert labels["x"].between(0, nx - 1).all()
    assert labels["y"].between(0, ny - 1).all()


def test_star_micrograph_name_with_directories(tmp_path):
    df = pd.DataFrame(
        {
            "rlnMicrographName": ["MotionCorr/job003/a.mrc", "MotionCorr/job003/b.mrc"],
            "rlnCoordinateX": [10.5, 20.0],
            "rlnCoordinateY": [30.0, 40.25],
        }
    )
    path = tmp_path / "picks.star"
    starfile.write(df, path)
    table = read_coordinate_file(path)
    assert table["micrograph"].tolist() == ["a", "b"]
    assert not table["from_file"].any()
    assert "score" not in table.columns
    labels = read_labels([path], ["a", "b", "c"])
    assert labels["micrograph"].tolist() == ["a", "b"]
    np.testing.assert_allclose(labels[["x", "y"]].to_numpy(), [[10.5, 30.0], [20.0, 40.25]])


def test_topaz_txt(tmp_path):
    path = tmp_path / "coords.txt"
    path.write_text("image_name\tx_coord\ty_coord\tscore\nmicA\t12\t34\t1.5\nmicB.mrc\t5\t6\t-0.25\n")
    table = read_coordinate_file(path)
    assert table["micrograph"].tolist() == ["micA", "micB"]
    assert table["x"].tolist() == [12.0, 5.0]
    assert table["y"].tolist() == [34.0, 6.0]
    assert table["score"].tolist() == [1.5, -0.25]


def test_topaz_missing_header(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("name x y\na 1 2\n")
    with pytest.raises(InputError, match=r"bad\.txt") as err:
        read_coordinate_file(path)
    assert "image_name" in str(err.value)


def test_csv(tmp_path):
    path = tmp_path / "coords.csv"
    path.write_text("micrograph,x,y\ndir/m1.mrc,1.5,2.5\nm2,3,4\n")
    table = read_coordinate_file(path)
    assert table["micrograph"].tolist() == ["m1", "m2"]
    np.testing.assert_allclose(table[["x", "y"]].to_numpy(), [[1.5, 2.5], [3, 4]])


def test_csv_non_numeric_coordinate(tmp_path):
    path = tmp_path / "coords.csv"
    path.write_text("micrograph,x,y\nm1,abc,2.5\n")
    with pytest.raises(InputError, match="non-numeric or non-finite x"):
        read_coordinate_file(path)


def test_eman_box_lower_left_to_centre(tmp_path):
    path = tmp_path / "mic7.box"
    path.write_text("90 190 20 20\n0\t0\t64\t64\n")
    table = read_coordinate_file(path)
    assert table["micrograph"].tolist() == ["mic7", "mic7"]
    assert table["from_file"].all()
    np.testing.assert_allclose(table[["x", "y"]].to_numpy(), [[100, 200], [32, 32]])


def test_eman_box_too_few_columns(tmp_path):
    path = tmp_path / "m.box"
    path.write_text("1 2\n")
    with pytest.raises(InputError, match="4 numbers"):
        read_coordinate_file(path)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", ["empty.star", "empty.txt", "empty.csv", "empty.box"])
def test_empty_file_names_the_file(tmp_path, name):
    path = tmp_path / name
    path.write_text("")
    with pytest.raises(InputError, match=re.escape(name)):
        read_coordinate_file(path)


def test_header_only_csv_has_no_coordinates(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("micrograph,x,y\n")
    with pytest.raises(InputError, match=r"header\.csv: no coordinates"):
        read_coordinate_file(path)


def test_missing_coordinate_file(tmp_path):
    with pytest.raises(InputError, match=r"nothere\.star: coordinate file not found"):
        read_coordinate_file(tmp_path / "nothere.star")


def test_detect_format():
    from pathlib import Path

    assert detect_format(Path("a.STAR")) == "star"
    assert detect_format(Path("a.box")) == "box"
    assert detect_format(Path("a.csv")) == "csv"
    assert detect_format(Path("a.txt")) == "topaz"
    with pytest.raises(InputError, match="cannot tell the coordinate format"):
        detect_format(Path("a.json"))


def test_unknown_names_listed_in_one_error():
    table = pd.DataFrame(
        {
            "micrograph": ["a", "zeta", "b", "alpha", "zeta"],
            "x": [1.0] * 5,
            "y": [1.0] * 5,
            "from_file": [False] * 5,
        }
    )
    with pytest.raises(InputError, match=r"labels\.star") as err:
        resolve_names(table, ["a", "b"], "labels.star")
    message = str(err.value)
    assert "alpha, zeta" in message
    assert message.count("zeta") == 1


def test_file_named_rows_without_matching_prefix_are_unknown():
    table = pd.DataFrame({"micrograph": ["other_autopick"], "x": [1.0], "y": [1.0], "from_file": [True]})
    with pytest.raises(InputError, match="other_autopick"):
        resolve_names(table, ["mic"], "src")


def _write_nameless_star(path, n: int) -> None:
    """A RELION STAR file without _rlnMicrographName (as RELION's autopick writes one per micrograph)."""
    starfile.write(
        pd.DataFrame({"rlnCoordinateX": np.arange(n, dtype=float) + 10, "rlnCoordinateY": np.full(n, 20.0)}), path
    )


def test_file_named_star_is_not_merged_into_a_prefix_of_its_name(tmp_path):
    _write_nameless_star(tmp_path / "mic1_autopick.star", 3)
    _write_nameless_star(tmp_path / "mic12_autopick.star", 5)
    with pytest.raises(InputError, match="mic12_autopick") as err:
        read_labels(sorted(tmp_path.glob("*.star")), ["mic1", "mic2"])
    assert "not in the micrograph list" in str(err.value)
    labels = read_labels(sorted(tmp_path.glob("*.star")), ["mic1", "mic12"])
    assert labels.groupby("micrograph").size().to_dict() == {"mic1": 3, "mic12": 5}


@pytest.mark.parametrize("name", ["mic1.star", "mic1_autopick.star", "mic1-coords.star", "mic1.picks.star"])
def test_file_named_star_with_a_separator_and_known_suffix(tmp_path, name):
    _write_nameless_star(tmp_path / name, 4)
    labels = read_labels([tmp_path / name], ["mic1", "mic10"])
    assert (labels["micrograph"] == "mic1").all() and len(labels) == 4


@pytest.mark.parametrize("name", ["mic1_DW.star", "mic1autopick.star", "mic1_autopick_old.star"])
def test_file_named_star_with_an_unknown_suffix_is_an_error(tmp_path, name):
    _write_nameless_star(tmp_path / name, 2)
    with pytest.raises(InputError, match="not in the micrograph list") as err:
        read_labels([tmp_path / name], ["mic1"])
    assert name.removesuffix(".star") in str(err.value)


def test_file_name_fitting_two_micrographs_is_an_ambiguity_error(tmp_path):
    _write_nameless_star(tmp_path / "a_pick.star", 2)
    with pytest.raises(InputError, match=r"a_pick\.star: the file name cannot tell") as err:
        read_labels([tmp_path / "a_pick.star"], ["a", "a_pick", "b"])
    assert "'a_pick' fits a, a_pick" in str(err.value)


def test_eman_box_named_after_a_longer_micrograph_is_unknown(tmp_path):
    path = tmp_path / "mic12.box"
    path.write_text("90 190 20 20\n")
    with pytest.raises(InputError, match="mic12"):
        read_labels([path], ["mic1"])


def test_check_inside_names_the_micrograph():
    labels = pd.DataFrame({"micrograph": ["m1", "m2", "m2"], "x": [5.0, 9.0, 10.0], "y": [5.0, 19.0, 3.0]})
    shapes = {"m1": (20, 10), "m2": (20, 10)}  # (ny, nx): valid x in [0, 9], y in [0, 19]
    check_inside(labels.iloc[:2], shapes, "src")
    with pytest.raises(InputError, match=r"src: 1 coordinates lie outside") as err:
        check_inside(labels, shapes, "src")
    assert "m2 (10.0, 3.0)" in str(err.value)
    negative = pd.DataFrame({"micrograph": ["m1"], "x": [1.0], "y": [-0.5]})
    with pytest.raises(InputError, match="m1"):
        check_inside(negative, shapes, "src")


@pytest.fixture
def picks():
    rng = np.random.default_rng(3)
    n = 12
    return pd.DataFrame(
        {
            "micrograph": ["micA"] * n,
            "x": rng.uniform(40, 900, n).round(4),
            "y": rng.uniform(40, 900, n).round(4),
            "score": rng.normal(size=n).round(4),
        }
    )


@pytest.mark.parametrize(("writer", "suffix", "tol"), [(write_star, ".star", 1e-3), (write_csv, ".csv", 1e-3)])
def test_round_trip_exact_formats(tmp_path, picks, writer, suffix, tol):
    path = tmp_path / f"picks{suffix}"
    writer(picks, path)
    back = read_coordinate_file(path)
    assert back["micrograph"].tolist() == picks["micrograph"].tolist()
    np.testing.assert_allclose(back["x"], picks["x"], atol=tol)
    np.testing.assert_allclose(back["y"], picks["y"], atol=tol)
    np.testing.assert_allclose(back["score"], picks["score"], atol=tol)


def test_round_trip_topaz(tmp_path, picks):
    path = tmp_path / "picks.txt"
    write_topaz(picks, path)
    back = read_coordinate_file(path)
    assert back["micrograph"].tolist() == picks["micrograph"].tolist()
    np.testing.assert_allclose(back["x"], picks["x"], atol=0.5)
    np.testing.assert_allclose(back["y"], picks["y"], atol=0.5)
    assert (back["x"] == back["x"].round()).all()
    np.testing.assert_allclose(back["score"], picks["score"], atol=1e-4)


def test_round_trip_box(tmp_path, picks):
    path = tmp_path / "micA.box"
    write_box(picks, path, box_size=64)
    rows = np.loadtxt(path, ndmin=2)
    assert (rows[:, 2:] == 64).all()
    back = read_coordinate_file(path)
    assert back["micrograph"].tolist() == ["micA"] * len(picks)
    np.testing.assert_allclose(back["x"], picks["x"], atol=0.5)
    np.testing.assert_allclose(back["y"], picks["y"], atol=0.5)


def test_written_star_columns(tmp_path, picks):
    path = tmp_path / "picks.star"
    write_star(picks, path)
    df = starfile.read(path)
    assert list(df.columns) == [
        "rlnMicrographName",
        "rlnCoordinateX",
        "rlnCoordinateY",
        "rlnAutopickFigureOfMerit",
    ]
    assert len(df) == len(picks)


def _assert_nothing_written(directory, target):
    assert not target.exists()
    assert list(directory.iterdir()) == []


@pytest.mark.parametrize("writer", [write_star, write_csv, write_topaz])
def test_writers_leave_nothing_on_failure(tmp_path, picks, writer):
    out = tmp_path / "out"
    out.mkdir()
    target = out / "picks.star"
    with pytest.raises(KeyError):
        writer(picks.drop(columns="score"), target)
    _assert_nothing_written(out, target)


def test_box_writer_leaves_nothing_on_failure(tmp_path, picks):
    out = tmp_path / "out"
    out.mkdir()
    target = out / "micA.box"
    with pytest.raises(KeyError):
        write_box(picks.drop(columns="y"), target, box_size=64)
    _assert_nothing_written(out, target)


def test_atomic_path_failure_inside_block_keeps_old_file(tmp_path):
    target = tmp_path / "picks.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="mid-way"), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.suffix == ".csv"
        tmp.write_text("partial")
        raise RuntimeError("mid-way")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["picks.csv"]


def test_atomic_path_success_replaces(tmp_path):
    target = tmp_path / "sub" / "picks.csv"
    with atomic_path(target) as tmp:
        tmp.write_text("new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in target.parent.iterdir()] == ["picks.csv"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_outputs_get_the_mode_the_umask_gives(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        write_csv(pd.DataFrame({"micrograph": ["a"], "x": [1.0], "y": [2.0], "score": [0.5]}), tmp_path / "p.csv")
    finally:
        os.umask(previous)
    assert (tmp_path / "p.csv").stat().st_mode & 0o777 == mode


def test_a_full_disk_names_the_output_and_leaves_nothing(tmp_path):
    target = tmp_path / "particles.star"
    with pytest.raises(OSError, match=r"no space left on the disk while writing .*particles\.star") as caught:
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise OSError(errno.ENOSPC, "No space left on device")  # what a writer raises on a full disk
    assert caught.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("writer", "suffix"), [(write_csv, ".csv"), (write_topaz, ".txt"), (write_star, ".star")])
def test_numeric_micrograph_names_survive_round_trip(tmp_path, writer, suffix):
    picks = pd.DataFrame({"micrograph": ["0001", "0002"], "x": [10.0, 20.0], "y": [30.0, 40.0], "score": [0.5, 0.4]})
    path = tmp_path / f"picks{suffix}"
    writer(picks, path)
    labels = read_labels([path], ["0001", "0002"])
    assert labels["micrograph"].tolist() == ["0001", "0002"]
