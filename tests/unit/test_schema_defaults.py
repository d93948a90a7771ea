"""The schema (workflow/schemas/config.schema.yaml) owns every setting's default and allowed values: the
code's defaults and names agree with it, so that the library used directly (tests, benchmarks, the CLI)
behaves as a workflow run with the setting left out."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from pickflow import schema
from pickflow.models import CONVNETS, MODELS, RESNETS, SEGMENTATION, ModelConfig
from pickflow.preprocess.image import fit_gmm
from pickflow.training.loop import TrainConfig
from pickflow.training.losses import LOSSES, LossConfig
from pickflow.workflow.config import MODEL_KEYS, SPEED_ONLY

NO_DEFAULT = "required"


def _schema_default(key: str) -> object:
    return schema.default(key) if schema.has_default(key) else NO_DEFAULT


def _field_default(field: dataclasses.Field) -> object:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return NO_DEFAULT


# TrainConfig fields that are no train.* setting of the same name, and why.
NOT_TRAIN_SETTINGS = {
    "model": "the architecture: ModelConfig, checked below",
    "particle_radius": "derived by pickflow.workflow.config.train_params from particle_diameter and the scale",
    "init": "train.init resolved by pickflow.workflow.config.init_choice (null -> general or scratch)",
    "init_sha256": "derived: the sha256 of the init file",
    "keep_epoch": "library use only (best or last epoch); the workflow always keeps the best",
    "candidate_threshold": "pick.candidate_threshold, checked below",
}
# train.* settings that are no TrainConfig field, and why.
OTHER_TRAIN_SETTINGS = {
    "device": "where the job runs: a rule param of its own",
    "threads": "how fast the job runs: the rule's threads",
    "init": "resolved into TrainConfig.init and init_sha256 by pickflow.workflow.config.train_params",
}


def test_model_names_are_the_schemas_and_each_has_one_family():
    assert MODELS == schema.allowed("train.model")
    families = [*RESNETS, *CONVNETS, *SEGMENTATION]
    assert sorted(families) == sorted(MODELS)


def test_loss_names_are_the_schemas():
    assert (*LOSSES, "auto") == tuple(sorted(schema.allowed("train.loss"), key=lambda name: name == "auto"))


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(ModelConfig)])
def test_model_config_defaults_are_the_schemas(field):
    key = "train.model" if field == "name" else f"train.{field}"
    assert _field_default(ModelConfig.__dataclass_fields__[field]) == _schema_default(key)


def test_every_train_setting_has_one_home_in_the_code():
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    for key in schema.settings("train"):
        name = key.split(".", 1)[1]
        homes = [name in MODEL_KEYS, name in train_fields - set(NOT_TRAIN_SETTINGS), name in OTHER_TRAIN_SETTINGS]
        assert sum(homes) == 1, (key, homes)
    assert train_fields - {k.split(".", 1)[1] for k in schema.settings("train")} <= set(NOT_TRAIN_SETTINGS)


def _train_cases():
    for field in dataclasses.fields(TrainConfig):
        if field.name in NOT_TRAIN_SETTINGS:
            continue
        yield pytest.param(field.name, id=field.name)


@pytest.mark.parametrize("field", _train_cases())
def test_train_config_defaults_are_the_schemas(field):
    assert _field_default(TrainConfig.__dataclass_fields__[field]) == _schema_default(f"train.{field}")


def test_the_other_code_defaults_are_the_schemas():
    assert _field_default(TrainConfig.__dataclass_fields__["candidate_threshold"]) == schema.default(
        "pick.candidate_threshold"
    )
    assert LossConfig("PN", 0.1, 0.01).slack == schema.default("train.slack")
    gmm = {
        name: p.default
        for name, p in inspect.signature(fit_gmm).parameters.items()
        if name in ("sample", "niters", "alpha", "beta")
    }
    assert gmm == {name: schema.default(f"preprocess.gmm.{name}") for name in gmm} and len(gmm) == 4


def test_cross_validated_parameters_are_train_settings():
    assert {f"train.{name}" for name in schema.allowed("cv.parameter")} <= set(schema.settings("train"))


def test_speed_only_settings_exist():
    for key in SPEED_ONLY:
        assert schema.setting(key)["type"] == "integer"


def test_a_required_setting_has_no_default():
    assert not schema.has_default("train.expected_particles")
    with pytest.raises(KeyError, match=r"train\.expected_particles"):
        schema.default("train.expected_particles")
