"""Bad input fails early with a message that names the file or key, and leaves no output behind."""

from __future__ import annotations

import json
import re

import mrcfile
import numpy as np
import pandas as pd
import pytest
import torch

from tests.workflow.helpers import (
    TINY_CONFIG,
    RunsCode,
    make_workdir,
    merge,
    planned_jobs,
    snakemake,
    write_config,
)

pytestmark = pytest.mark.workflow


def dry_run_error(workdir) -> str:
    result = snakemake(workdir, "--dry-run")
    assert result.returncode != 0, "the dry run should have failed"
    return result.stdout + result.stderr


@pytest.fixture
def workdir(tmp_path):
    return make_workdir(tmp_path, n_micrographs=3, split={"test_fraction": 0.34})


def test_micrograph_list_naming_a_missing_file(workdir):
    (workdir / "list.txt").write_text("data/micrographs/061_10028.png\ndata/micrographs/nope.mrc\n")
    write_config(workdir, merge(TINY_CONFIG, {"micrographs": {"path": "list.txt"}}))
    message = dry_run_error(workdir)
    assert "nope.mrc" in message and "do not exist" in message


@pytest.mark.parametrize("fmt", ["topaz", "auto"])
def test_one_topaz_coordinate_file_is_read_as_labels(workdir, fmt):
    labels = pd.read_csv(workdir / "data/coordinates.csv")
    topaz = labels.rename(columns={"micrograph": "image_name", "x": "x_coord", "y": "y_coord"})
    topaz.to_csv(workdir / "data/picks.txt", sep="\t", index=False)
    write_config(workdir, merge(TINY_CONFIG, {"labels": {"coordinates": "data/picks.txt", "format": fmt}}))
    assert planned_jobs(workdir)["train"] == 1
    result = snakemake(workdir, "--cores", "1", "results/labels/labels.csv")
    assert result.returncode == 0, result.stderr
    assert len(pd.read_csv(workdir / "results/labels/labels.csv")) == len(labels)


def test_an_empty_list_of_coordinate_files_says_the_list_is_empty(workdir):
    (workdir / "data/list.txt").write_text("\n")
    write_config(workdir, merge(TINY_CONFIG, {"labels": {"coordinates": "data/list.txt"}}))
    assert "list.txt: the list is empty; it should name the coordinate files" in dry_run_error(workdir)


def test_a_directory_as_micrographs_path_asks_for_a_glob(workdir):
    write_config(workdir, merge(TINY_CONFIG, {"micrographs": {"path": "data/micrographs"}}))
    assert "data/micrographs is a directory: give a glob of the micrographs" in dry_run_error(workdir)


def test_a_broken_link_among_the_micrographs_is_named(workdir):
    (workdir / "data/micrographs/gone.png").symlink_to(workdir / "nowhere.png")
    assert "gone.png: symbolic link to" in dry_run_error(workdir)


def test_glob_matching_nothing(workdir):
    write_config(workdir, merge(TINY_CONFIG, {"micrographs": {"path": "data/elsewhere/*.mrc"}}))
    assert "matched no micrographs" in dry_run_error(workdir)


def test_coordinates_for_a_micrograph_not_in_the_list(workdir):
    with open(workdir / "data/coordinates.csv", "a") as handle:
        handle.write("999_unknown.png,10,10\n")
    message = dry_run_error(workdir)
    assert "999_unknown" in message and "not in the micrograph list" in message


def test_coordinates_outside_the_image(workdir):
    with open(workdir / "data/coordinates.csv", "a") as handle:
        handle.write("061_10028.png,5000,10\n")
    message = dry_run_error(workdir)
    assert "outside" in message and "061_10028" in message and "full-size" in message


def test_empty_coordinates_file(workdir):
    (workdir / "data/coordinates.csv").write_text("micrograph,x,y\n")
    message = dry_run_error(workdir)
    assert "coordinates.csv" in message and "no coordinates" in message


def test_too_few_labeled_micrographs_for_the_split(tmp_path):
    workdir = make_workdir(tmp_path, n_micrographs=1)
    message = dry_run_error(workdir)
    assert "only 1 labeled micrograph" in message and "split.test_fraction" in message


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"train": {"epochs": "ten"}}, "epochs"),
        ({"train": {"learning_rate": -1}}, "learning_rate"),
        ({"split": {"test_fraction": 1.5}}, "test_fraction"),
        ({"pick": {"threshold": {"mode": "magic"}}}, "magic"),
        ({"trian": {"epochs": 2}}, "trian"),
        ({"train": {"epoch": 2}}, "epoch"),
        ({"train": {"epochs": 2.0}}, "train.epochs: 2.0 must be a whole number"),
        ({"train": {"minibatch_size": 16.0}}, "train.minibatch_size: 16.0 must be a whole number"),
        ({"train": {"learning_rate": float("nan")}}, "train.learning_rate: nan is not a finite number"),
        ({"train": {"expected_particles": float("inf")}}, "train.expected_particles: inf is not a finite number"),
    ],
)
def test_config_values_are_schema_checked(workdir, override, expected):
    write_config(workdir, merge(TINY_CONFIG, override))
    message = dry_run_error(workdir)
    assert expected in message


def test_a_missing_required_key_is_named_in_one_line(workdir):
    write_config(workdir, {key: value for key, value in TINY_CONFIG.items() if key != "particle_diameter"})
    message = dry_run_error(workdir)
    assert "particle_diameter: missing; set it in config.yaml" in message
    assert "properties" not in message  # no schema dump


def test_a_yaml_syntax_error_names_the_file_and_line(workdir):
    (workdir / "config.yaml").write_text("micrographs:\n  path: [data\n")
    assert "config.yaml: not valid YAML at line 3" in dry_run_error(workdir)


def test_numbers_pyyaml_reads_as_strings_are_numbers(workdir):
    text = (workdir / "config.yaml").read_text()
    (workdir / "config.yaml").write_text(text.replace("learning_rate: 0.002", "learning_rate: 2e-3"))
    result = snakemake(workdir, "--dry-run", "--printshellcmds")
    assert result.returncode == 0, result.stderr


def test_a_class_prior_of_one_or_more_fails_before_any_job(workdir):
    # 3 micrographs of 1024 x 1024 pixels, downsampled 4x: 65536 pixels each, 29 per particle at radius 3
    write_config(workdir, merge(TINY_CONFIG, {"train": {"expected_particles": 3000}}))
    message = dry_run_error(workdir)
    assert "train.expected_particles=3000 with train.label_radius=3 gives a class prior pi=1.33" in message
    assert "preprocess.downsample/target_pixel_size" in message and "below 2260" in message


def test_forbidden_model_combination(workdir):
    write_config(workdir, merge(TINY_CONFIG, {"train": {"model": "resnet8", "pooling": "avg"}}))
    assert "average pooling is not available for ResNet" in dry_run_error(workdir)


def _write_mrc(path, data):
    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(data)


@pytest.mark.parametrize("problem", ["nan", "constant"])
def test_bad_micrograph_content_fails_its_job_without_output(tmp_path, problem):
    workdir = make_workdir(tmp_path, n_micrographs=3)
    bad = workdir / "data/micrographs/bad.mrc"
    data = np.random.default_rng(0).normal(size=(256, 256)).astype(np.float32)
    if problem == "nan":
        data[10, 10] = np.nan
    if problem == "constant":
        data[:] = 1.0
    _write_mrc(bad, data)
    write_config(workdir, merge(TINY_CONFIG, {"micrographs": {"path": "data/micrographs/*"}}))
    result = snakemake(workdir, "--cores", "1", "results/preprocessed/bad.json")
    assert result.returncode != 0
    log = (workdir / "logs/preprocess/bad.log").read_text()
    assert "bad.mrc" in log
    assert {"nan": "NaN", "constant": "zero variance"}[problem] in log
    assert not list((workdir / "results/preprocessed").glob("bad.*"))
    assert not list((workdir / "results/preprocessed").glob(".*"))  # no temporary leftovers


def test_a_shared_model_file_that_carries_code_fails_its_job_without_running_it(tmp_path):
    workdir = make_workdir(tmp_path, n_micrographs=2)  # one scoring batch: "h"
    keys = [p.stem for p in sorted((workdir / "data/micrographs").glob("*.png"))]
    result = snakemake(workdir, "--cores", "1", *[f"results/preprocessed/{key}.json" for key in keys])
    assert result.returncode == 0, result.stderr
    marker = tmp_path / "code_ran"
    (workdir / "results/train").mkdir(parents=True)
    torch.save(
        {"model_config": {"name": "conv31"}, "state_dict": {}, "x": RunsCode(marker)},
        workdir / "results/train/model.pt",
    )
    result = snakemake(workdir, "--cores", "1", "--allowed-rules", "score", "--", "results/pick/candidates/h.csv")
    assert result.returncode != 0
    log = (workdir / "logs/score/h.log").read_text()
    assert "results/train/model.pt: refused to load: the file holds Python objects" in log
    assert not marker.exists()
    assert not (workdir / "results/pick/candidates/h.csv").exists()


def _broken_micrographs(workdir) -> dict[str, str]:
    """Unlabeled micrographs that fail the header check, written for real; name -> expected reason."""
    folder = workdir / "data/micrographs"
    data = np.random.default_rng(0).normal(size=(64, 64)).astype(np.float32)
    (folder / "empty.mrc").write_bytes(b"")
    _write_mrc(folder / "cut.mrc", data)
    (folder / "cut.mrc").write_bytes((folder / "cut.mrc").read_bytes()[:-5000])
    (folder / "noise.mrc").write_bytes(np.random.default_rng(1).bytes(3000))
    _write_mrc(folder / "stack.mrc", np.stack([data, data, data]))
    return {
        "empty.mrc": "empty file",
        "cut.mrc": "truncated",
        "noise.mrc": "cannot read the micrograph header",
        "stack.mrc": "3 sections",
    }


def test_broken_unlabeled_micrographs_fail_the_parse_listing_every_file(workdir):
    broken = _broken_micrographs(workdir)
    write_config(workdir, merge(TINY_CONFIG, {"micrographs": {"path": "data/micrographs/*"}}))
    message = dry_run_error(workdir)
    assert "4 micrograph(s) cannot be used" in message and "micrographs.on_error: skip" in message
    for name, reason in broken.items():
        assert re.search(rf"{re.escape(name)}: [^\n]*{reason}", message), (name, message)


def test_broken_unlabeled_micrographs_are_skipped_with_a_warning_and_recorded(workdir):
    broken = _broken_micrographs(workdir)
    config = {"micrographs": {"path": "data/micrographs/*", "on_error": "skip"}}
    write_config(workdir, merge(TINY_CONFIG, config))
    result = snakemake(workdir, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    for name, reason in broken.items():
        assert re.search(rf"LEFT OUT of this run .*{re.escape(name)}: [^\n]*{reason}", log), name
    planned = result.stdout
    assert "results/preprocessed/061_10028.json" in planned
    assert not any(f"results/preprocessed/{name.removesuffix('.mrc')}." in planned for name in broken)
    recorded = snakemake(workdir, "--cores", "1", "results/inputs/skipped.json")
    assert recorded.returncode == 0, recorded.stderr[-3000:]
    skipped = json.loads((workdir / "results/inputs/skipped.json").read_text())["skipped"]
    assert [entry["micrograph"] for entry in skipped] == ["cut", "empty", "noise", "stack"]
    assert all(broken[entry["micrograph"] + ".mrc"] in entry["reason"] for entry in skipped)


def test_a_broken_labeled_micrograph_is_an_error_even_with_skip(workdir):
    labeled = workdir / "data/micrographs/061_10028.png"
    labeled.write_bytes(labeled.read_bytes()[:20])
    write_config(workdir, merge(TINY_CONFIG, {"micrographs": {"on_error": "skip"}}))
    message = dry_run_error(workdir)
    assert "061_10028.png" in message and "cannot read the micrograph header" in message


def test_more_folds_than_training_micrographs_fails_at_parse_time(workdir):
    cv = {"enabled": True, "parameter": "expected_particles", "values": [100, 150], "folds": 3}
    write_config(workdir, merge(TINY_CONFIG, {"cv": cv}))
    message = dry_run_error(workdir)
    assert "cv.folds=3 needs at least 3 training micrographs, but there are 2" in message


def test_target_pixel_size_below_the_pixel_size_names_both_keys(workdir):
    write_config(workdir, merge(TINY_CONFIG, {"preprocess": {"target_pixel_size": 2.0}}))
    message = dry_run_error(workdir)
    assert "preprocess.target_pixel_size (2.0 Å) is below micrographs.pixel_size (5.36 Å)" in message


def test_duplicated_labels_are_warned_about_when_the_workflow_is_parsed(workdir):
    coordinates = workdir / "data/coordinates.csv"
    rows = coordinates.read_text().splitlines()
    coordinates.write_text("\n".join([*rows, *rows[1:4]]) + "\n")  # three labels listed twice
    result = snakemake(workdir, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "pickflow: 3 labels repeat another label of the same micrograph (within 1 px)" in log
    assert "Remove the duplicates" in log
