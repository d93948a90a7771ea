"""The run configuration: schema validation (with defaults), semantic checks, and the settings
each step receives. The workflow (through rule params) and the scripts' command lines both use
these functions, so a setting means the same thing everywhere."""

from __future__ import annotations

import copy
import logging
import math
from pathlib import Path

import yaml

from .errors import InputError
from .model_config import CONVNETS, RESNETS, SEGMENTATION, ModelConfig, config_errors, receptive_field

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
MODEL_KEYS = ("model", "units", "unit_scaling", "dropout", "batchnorm", "pooling", "autoencoder", "depth")
log = logging.getLogger(__name__)


def validate(config: dict) -> dict:
    """Check ``config`` against the schema and fill in defaults (returns a validated copy)."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate as snakemake_validate

    checked = copy.deepcopy(config)
    try:
        snakemake_validate(checked, str(SCHEMA), set_default=True)
    except WorkflowError as exc:
        raise InputError(f"config: {exc}") from exc
    check_semantics(checked)
    return checked


def load_config(path: str | Path) -> dict:
    """Read and validate a pickflow config file."""
    with open(path) as handle:
        return validate(yaml.safe_load(handle) or {})


def check_semantics(config: dict) -> None:
    """Errors the schema cannot express (forbidden model combinations, cross-validation values)."""
    errors = train_errors(config)
    if config["cv"]["enabled"]:
        errors += _cv_errors(config)
    if errors:
        raise InputError("config: " + "; ".join(errors))


def _cv_errors(config: dict) -> list[str]:
    import jsonschema

    from .crossval import cv_values, value_key

    cv = config["cv"]
    ranged = [cv[k] is not None for k in ("initial", "increment", "count")]
    if bool(cv["values"]) == all(ranged) or (any(ranged) and not all(ranged)):
        return ["cv: give either cv.values or all of cv.initial, cv.increment and cv.count"]
    values = cv_values(cv)
    if len({value_key(v) for v in values}) != len(values):
        return [f"cv.values: values must be distinct, got {values}"]
    schema = yaml.safe_load(SCHEMA.read_text())["properties"]["train"]["properties"][cv["parameter"]]
    errors = []
    for value in values:
        try:
            jsonschema.validate(value, schema)
        except jsonschema.ValidationError as exc:
            errors.append(f"cv.values: {value!r} is not a valid train.{cv['parameter']} ({exc.message})")
            continue
        errors += [f"cv.values {value!r}: {e}" for e in train_errors(with_value(config, value))]
    return errors


def train_errors(config: dict) -> list[str]:
    """Forbidden model combinations and settings that do not fit the model family."""
    train = config["train"]
    errors = config_errors(model_config(config))
    if train["model"] in SEGMENTATION and train["patch_size"] % 2 ** train["depth"]:
        errors.append(
            f"train.patch_size: the unet with depth {train['depth']} needs a multiple of {2 ** train['depth']}, "
            f"got {train['patch_size']}"
        )
    if train["model"] not in SEGMENTATION and train["minibatch_size"] == 1:
        errors.append("train.minibatch_size: resnet/conv models need at least 2 crops per minibatch (batch norm)")
    return errors


def with_value(config: dict, value: object) -> dict:
    """The config with the cross-validated training parameter set to ``value``."""
    changed = copy.deepcopy(config)
    changed["train"][config["cv"]["parameter"]] = value
    return changed


def model_config(config: dict) -> ModelConfig:
    train = config["train"]
    return ModelConfig(name=train["model"], **{k: train[k] for k in MODEL_KEYS[1:]})


def preprocessed_pixel_size(config: dict) -> float:
    """Nominal Å per pixel after downsampling."""
    pre = config["preprocess"]
    return float(pre["target_pixel_size"] or config["micrographs"]["pixel_size"] * pre["downsample"])


def particle_radius_px(config: dict) -> float:
    """Particle radius in preprocessed pixels."""
    return config["particle_diameter"] / 2.0 / preprocessed_pixel_size(config)


def receptive_field_warning(config: dict) -> str | None:
    """A warning when the particle does not fit the model's receptive field, else None."""
    rf = receptive_field(model_config(config))
    diameter = 2 * particle_radius_px(config)
    if diameter >= rf:
        kind = (
            "ResNet"
            if config["train"]["model"] in RESNETS
            else "conv"
            if config["train"]["model"] in CONVNETS
            else "U-Net"
        )
        return (
            f"the particle diameter is {diameter:.0f} preprocessed pixels but the {kind} model "
            f"'{config['train']['model']}' sees {rf} pixels: downsample more (preprocess.downsample) or use a larger model"
        )
    return None


def preprocess_params(config: dict) -> dict:
    pre = config["preprocess"]
    return {
        "pixel_size": config["micrographs"]["pixel_size"],
        "downsample": pre["downsample"],
        "target_pixel_size": pre["target_pixel_size"],
        "lowpass": pre["lowpass"],
        "normalize": pre["normalize"],
        "gmm": pre["gmm"],
        "seed": pre["seed"],
    }


def train_params(config: dict) -> dict:
    """Keyword arguments of :class:`pickflow.training.TrainConfig`."""
    t = config["train"]
    skip = set(MODEL_KEYS) | {"device", "threads"}
    values = {k: v for k, v in t.items() if k not in skip}
    values["model"] = {"name": t["model"], **{k: t[k] for k in MODEL_KEYS[1:]}}
    values["particle_radius"] = particle_radius_px(config)
    return values


def pick_params(config: dict) -> dict:
    p = config["pick"]
    pixel = preprocessed_pixel_size(config)
    radius_a = config["particle_diameter"] / 2.0
    return {
        "method": p["method"],
        "blob_threshold": p["blob_threshold"],
        "nms_radius": (p["nms_radius"] or radius_a) / pixel,
        "candidate_threshold": p["candidate_threshold"],
        "edge": int(math.ceil(p["edge"] / pixel)),
        "stride": p["stride"],
        "tile": p["tile"],
    }


def threshold_params(config: dict) -> dict:
    p = config["pick"]
    full_pixel = config["micrographs"]["pixel_size"]
    return {
        **p["threshold"],
        "expected_particles": config["train"]["expected_particles"],
        "matching_radius": (p["matching_radius"] or config["particle_diameter"] / 2.0) / full_pixel,
    }


def box_size(config: dict) -> int:
    """EMAN box size in full-size pixels."""
    return int(
        config["pick"]["box_size"] or round(1.5 * config["particle_diameter"] / config["micrographs"]["pixel_size"])
    )
