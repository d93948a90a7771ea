"""The config checks: schema errors in one line naming the key, numbers PyYAML reads as strings,
whole and finite numbers, YAML syntax errors with file and line."""

from __future__ import annotations

import copy
import math
import re

import pytest
import yaml

from pickflow.errors import InputError
from pickflow.workflow.config import load_config
from tests.workflow.helpers import TINY_CONFIG, merge


def write(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def dumped(**overrides) -> str:
    return yaml.safe_dump(merge(TINY_CONFIG, overrides), sort_keys=False)


def test_the_tiny_config_is_valid(tmp_path):
    config = load_config(write(tmp_path, dumped()))
    assert config["train"]["epochs"] == 3 and config["cv"]["folds"] == 3  # defaults filled in


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"train": {"epochs": 2.0}}, "train.epochs: 2.0 must be a whole number written without a decimal point (2)"),
        ({"train": {"minibatch_size": 16.0}}, "train.minibatch_size: 16.0 must be a whole number"),
        ({"train": {"learning_rate": math.nan}}, "train.learning_rate: nan is not a finite number"),
        ({"train": {"expected_particles": math.inf}}, "train.expected_particles: inf is not a finite number"),
        ({"pick": {"threshold": {"value": -math.inf}}}, "pick.threshold.value: -inf is not a finite number"),
        (
            {"cv": {"enabled": True, "parameter": "epoch_size", "values": [10, 20.0]}},
            "cv.values[1]: 20.0 must be a whole number",
        ),
    ],
)
def test_numbers_must_be_finite_and_counts_whole(tmp_path, override, message):
    with pytest.raises(InputError, match=re.escape(message)):
        load_config(write(tmp_path, dumped(**override)))


def test_numbers_written_as_1e_minus_4_are_read_as_numbers(tmp_path):
    text = dumped().replace("learning_rate: 0.002", "learning_rate: 1e-4")
    assert "learning_rate: 1e-4" in text and yaml.safe_load(text)["train"]["learning_rate"] == "1e-4"
    assert load_config(write(tmp_path, text))["train"]["learning_rate"] == 1e-4
    text = dumped(cv={"enabled": True, "parameter": "learning_rate", "values": [1, 2]}).replace(
        "- 1\n  - 2", "- 1e-4\n  - 2e-4"
    )
    assert load_config(write(tmp_path, text))["cv"]["values"] == [1e-4, 2e-4]


def test_a_string_that_is_no_number_is_named(tmp_path):
    with pytest.raises(InputError, match=r"^config: train\.epochs: 'ten' is not of type 'integer'$"):
        load_config(write(tmp_path, dumped(train={"epochs": "ten"})))


def test_a_missing_required_key_is_one_line_naming_it(tmp_path):
    config = copy.deepcopy(TINY_CONFIG)
    del config["train"]["expected_particles"]
    with pytest.raises(InputError) as caught:
        load_config(write(tmp_path, yaml.safe_dump(config)))
    assert str(caught.value) == (
        "config: train.expected_particles: missing; set it in config.yaml (expected particles per micrograph (required))"
    )


def test_a_misspelled_key_is_named(tmp_path):
    with pytest.raises(InputError, match=r"^config: train: Additional properties .*'epoch' was unexpected"):
        load_config(write(tmp_path, dumped(train={"epoch": 2})))


def test_a_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "micrographs:\n  path: x\n  pixel_size: [1\nparticle_diameter: 3\n")
    with pytest.raises(InputError, match=r"config\.yaml: not valid YAML at line 4, column \d+: "):
        load_config(path)


def _validated(**overrides) -> dict:
    from pickflow.workflow.config import validate

    return validate(merge(TINY_CONFIG, overrides))


def test_each_step_gets_exactly_the_settings_it_takes():
    import inspect

    from pickflow.steps.folds import write_folds
    from pickflow.steps.split import split_labels
    from pickflow.workflow.config import folds_params, split_params

    config = _validated()
    assert set(split_params(config)) == set(inspect.signature(split_labels).parameters) - {"labels", "output"}
    assert set(folds_params(config)) == set(inspect.signature(write_folds).parameters) - {"labels", "split", "output"}
    assert split_params(config) == {"test_fraction": 0.34, "seed": 0}


def test_the_cross_validation_params_hold_the_values_tried():
    from pickflow.workflow.config import cv_params

    ranged = {"enabled": True, "parameter": "learning_rate", "initial": 0.001, "increment": 0.001, "count": 2}
    assert cv_params(_validated(cv=ranged)) == {
        "parameter": "learning_rate",
        "values": [0.001, 0.002],
        "metric": "ap",
        "folds": 3,
    }
    assert cv_params(_validated())["values"] == []  # cross-validation off: no values to resolve


@pytest.mark.parametrize(
    "edit",
    [
        {"pick": {"threads": 2}},
        {"train": {"threads": 2}},
        {"preprocess": {"threads": 2}},
        {"cv": {"values": [1, 2], "folds": 4}},  # cross-validation is off
    ],
)
def test_the_report_settings_ignore_edits_that_change_no_result(edit):
    from pickflow.workflow.config import report_settings

    assert report_settings(_validated(**edit)) == report_settings(_validated())


def test_the_report_settings_follow_edits_that_change_results():
    from pickflow.workflow.config import report_settings

    shown = report_settings(_validated())
    assert shown["train"]["epochs"] == 3 and "threads" not in shown["train"] and shown["cv"] == {"enabled": False}
    for edit in ({"train": {"epochs": 4}}, {"pick": {"stride": 1}}, {"split": {"seed": 1}}):
        assert report_settings(_validated(**edit)) != shown


def test_the_config_checks_import_no_torch():
    import subprocess
    import sys

    code = (
        "import sys, pickflow.workflow.config, pickflow.models, pickflow.models.general; print('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_a_self_training_fraction_of_one_is_refused_before_any_job(tmp_path):
    """Adding every missing particle would make the labels reach the class prior (and the loss fall back to PN)."""
    with pytest.raises(InputError, match=r"train\.self_training_fraction"):
        load_config(write(tmp_path, dumped(train={"self_training_rounds": 1, "self_training_fraction": 1.0})))
    config = load_config(write(tmp_path, dumped(train={"self_training_rounds": 1, "self_training_fraction": 0.9})))
    assert config["train"]["self_training_epochs"] == 5
