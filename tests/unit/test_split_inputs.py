"""Train/test split by micrograph and discovery of the input micrographs."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from pickflow.errors import InputError
from pickflow.io import inputs
from pickflow.io.inputs import check_split_possible, coordinate_files, discover_micrographs
from pickflow.io.records import LabelCounts
from pickflow.training.split import train_test_split

NAMES = [f"mic_{i:02d}" for i in range(10)]


@pytest.fixture
def labels():
    rows = [(name, float(j), float(j)) for i, name in enumerate(NAMES) for j in range(i + 1)]
    return pd.DataFrame(rows, columns=["micrograph", "x", "y"])


def test_split_disjoint_and_complete(labels):
    split = train_test_split(labels, 0.3, seed=0)
    assert len(split.test) == 3
    assert len(split.train) == 7
    assert set(split.train).isdisjoint(split.test)
    assert sorted(split.train + split.test) == NAMES
    assert split.train == sorted(split.train) and split.test == sorted(split.test)
    counts = labels["micrograph"].value_counts()
    assert split.labels.test == int(counts[split.test].sum())
    assert split.labels.train + split.labels.test == len(labels)
    assert split.seed == 0 and split.test_fraction == 0.3


def test_split_reproducible_and_seed_dependent(labels):
    a = train_test_split(labels, 0.3, seed=7)
    b = train_test_split(labels.sample(frac=1.0, random_state=1), 0.3, seed=7)  # row order does not matter
    assert a.test == b.test and a.train == b.train
    others = {tuple(train_test_split(labels, 0.3, seed=s).test) for s in (8, 9, 10)}
    assert any(test != tuple(a.test) for test in others)
    assert train_test_split(labels, 0.3, seed=0).test != train_test_split(labels, 0.3, seed=1).test


def test_split_fraction_zero(labels, caplog):
    with caplog.at_level(logging.WARNING, logger="pickflow.training.split"):
        split = train_test_split(labels, 0.0, seed=0)
    assert split.test == []
    assert split.train == NAMES
    assert split.labels == LabelCounts(train=len(labels), test=0)
    assert "test_fraction is 0" in caplog.text


def test_small_positive_fraction_holds_out_one(labels):
    split = train_test_split(labels, 0.01, seed=0)
    assert len(split.test) == 1


def test_split_not_possible():
    with pytest.raises(InputError, match="Label more micrographs"):
        check_split_possible(1, 0.2)
    one = pd.DataFrame({"micrograph": ["only"], "x": [1.0], "y": [1.0]})
    with pytest.raises(InputError, match="Label more micrographs"):
        train_test_split(one, 0.2, seed=0)
    check_split_possible(1, 0.0)
    check_split_possible(2, 0.2)
    assert inputs.test_count(10, 0.25) == 2  # round(2.5) -> banker's rounding
    assert inputs.test_count(10, 0.0) == 0
    assert inputs.test_count(3, 0.05) == 1


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_discover_from_glob(tmp_path):
    for name in ("b.mrc", "a.mrc", "c.tif", "notes.md"):
        _touch(tmp_path / "mics" / name)
    found = discover_micrographs("mics/*.mrc", base=tmp_path)
    assert list(found) == ["a", "b"]
    assert found["a"] == tmp_path / "mics" / "a.mrc"
    recursive = discover_micrographs("**/*.tif", base=tmp_path)
    assert recursive == {"c": tmp_path / "mics" / "c.tif"}


def test_discover_glob_matching_nothing(tmp_path):
    with pytest.raises(InputError, match=r"'nothing/\*.mrc' matched no micrographs"):
        discover_micrographs("nothing/*.mrc", base=tmp_path)


def test_discover_glob_with_unsupported_file(tmp_path):
    _touch(tmp_path / "m" / "x.dm4")
    with pytest.raises(InputError, match=r"x.dm4: unsupported micrograph format"):
        discover_micrographs("m/*", base=tmp_path)


def test_discover_from_txt_list(tmp_path):
    _touch(tmp_path / "data" / "one.mrc")
    _touch(tmp_path / "data" / "sub" / "two.png")
    (tmp_path / "data" / "list.txt").write_text("# my micrographs\none.mrc\n\n  sub/two.png  \n")
    found = discover_micrographs("data/list.txt", base=tmp_path)
    assert found == {"one": tmp_path / "data" / "one.mrc", "two": tmp_path / "data" / "sub" / "two.png"}


def test_txt_list_with_missing_file(tmp_path):
    _touch(tmp_path / "one.mrc")
    (tmp_path / "list.txt").write_text("one.mrc\nghost.mrc\n")
    with pytest.raises(InputError, match=r"ghost\.mrc") as err:
        discover_micrographs("list.txt", base=tmp_path)
    assert "1 listed micrographs do not exist" in str(err.value)


def test_duplicate_keys_rejected(tmp_path):
    _touch(tmp_path / "a" / "x.mrc")
    _touch(tmp_path / "b" / "x.png")
    with pytest.raises(InputError, match="two micrographs share the name 'x'") as err:
        discover_micrographs("*/x.*", base=tmp_path)
    assert "x.mrc" in str(err.value) and "x.png" in str(err.value)


def test_coordinate_files(tmp_path):
    _touch(tmp_path / "c" / "a.star")
    _touch(tmp_path / "c" / "b.star")
    assert coordinate_files("c/*.star", base=tmp_path) == [tmp_path / "c" / "a.star", tmp_path / "c" / "b.star"]
    with pytest.raises(InputError, match="matched no coordinate files"):
        coordinate_files("c/*.box", base=tmp_path)


def test_a_topaz_coordinate_file_with_a_txt_suffix_is_coordinates_not_a_list(tmp_path):
    _touch(tmp_path / "mics" / "a.mrc")
    (tmp_path / "picks.txt").write_text("image_name\tx_coord\ty_coord\na\t10\t20\na\t30\t40\n")
    for fmt in ("topaz", "auto"):
        assert coordinate_files("picks.txt", base=tmp_path, fmt=fmt) == [tmp_path / "picks.txt"]
    (tmp_path / "list.txt").write_text("picks.txt\n")  # a list of Topaz files stays a list
    assert coordinate_files("list.txt", base=tmp_path, fmt="topaz") == [tmp_path / "picks.txt"]


def test_an_empty_list_file_says_so(tmp_path):
    (tmp_path / "list.txt").write_text("# nothing yet\n\n")
    with pytest.raises(InputError, match=r"list\.txt: the list is empty; it should name the coordinate files"):
        coordinate_files("list.txt", base=tmp_path)
    with pytest.raises(InputError, match=r"list\.txt: the list is empty; it should name the micrographs"):
        discover_micrographs("list.txt", base=tmp_path)


def test_a_directory_as_the_micrograph_path_asks_for_a_glob(tmp_path):
    _touch(tmp_path / "mics" / "a.mrc")
    with pytest.raises(
        InputError, match=r"mics is a directory: give a glob of the micrographs in it \(such as 'mics/\*\.mrc'\)"
    ):
        discover_micrographs("mics/", base=tmp_path)


def test_glob_characters_in_a_file_name_are_explained(tmp_path):
    _touch(tmp_path / "mic[1].mrc")
    with pytest.raises(InputError, match=r"'\[' are glob characters: write '\[' as '\[\[\]'"):
        discover_micrographs("mic[1].mrc", base=tmp_path)
    assert list(discover_micrographs("mic[[]1].mrc", base=tmp_path)) == ["mic[1]"]


def test_braces_in_a_path_are_refused(tmp_path):
    _touch(tmp_path / "run{1}" / "a.mrc")
    with pytest.raises(
        InputError, match=r"run\{1\}/a\.mrc: '\{' and '\}' in a file or folder name read as Snakemake wildcards"
    ):
        discover_micrographs("*/*.mrc", base=tmp_path)


@pytest.mark.parametrize("kind", ["broken", "loop"])
def test_links_that_lead_nowhere_are_named(tmp_path, kind):
    _touch(tmp_path / "mics" / "a.mrc")
    link = tmp_path / "mics" / "b.mrc"
    if kind == "broken":
        link.symlink_to(tmp_path / "gone.mrc")
    else:
        link.symlink_to(tmp_path / "mics" / "c.mrc")
        (tmp_path / "mics" / "c.mrc").symlink_to(link)
    reason = "no file" if kind == "broken" else "a loop of links"
    with pytest.raises(InputError, match=rf"b\.mrc: symbolic link to .*, which leads to {reason}\. Fix or remove"):
        discover_micrographs("mics/*.mrc", base=tmp_path)
    (tmp_path / "list.txt").write_text("mics/a.mrc\nmics/b.mrc\n")
    with pytest.raises(InputError, match=rf"b\.mrc: symbolic link to .*, which leads to {reason}"):
        discover_micrographs("list.txt", base=tmp_path)
