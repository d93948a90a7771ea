"""The run configuration: schema validation (with defaults), semantic checks, and the settings
each step receives. The workflow (through rule params) and the scripts' command lines both use
these functions, so a setting means the same thing everywhere."""

from __future__ import annotations

import copy
import logging
import math
import zlib
from dataclasses import asdict
from pathlib import Path

import yaml

from .errors import InputError
from .general_models import file_sha256, general_model_info, general_model_path, has_general_model
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
    """Errors the schema cannot express (forbidden model combinations, the start of training and the
    preprocessing scale it needs, cross-validation values)."""
    errors = train_errors(config) + scale_errors(config)
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
    return errors + init_errors(config)


def init_choice(config: dict) -> str:
    """``train.init`` resolved: ``general``, ``scratch`` or a model path; unset (null) means ``general``
    where a general model ships for ``train.model``, else ``scratch``."""
    init = config["train"].get("init")
    if init is None:
        return "general" if has_general_model(config["train"]["model"]) else "scratch"
    return init


def init_file(config: dict) -> Path | None:
    """The model file training starts from (None: from scratch)."""
    init = init_choice(config)
    if init == "scratch":
        return None
    if init == "general":
        return general_model_path(config["train"]["model"])
    return Path(init).resolve()


def init_errors(config: dict) -> list[str]:
    """A start that cannot be used: no general model for the family, a missing file, or a model file
    of another family or architecture (its differing settings are named)."""
    try:
        path = init_file(config)
    except InputError as exc:
        return [str(exc)]
    if path is None:
        return []
    if not path.is_file():
        return [
            f"train.init: model file {path} not found; give the model.pt of an earlier pickflow run, general or scratch"
        ]
    try:
        saved = saved_model_config(config, path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        return [f"train.init: {path} is not a pickflow model file ({type(exc).__name__}: {exc})"]
    wanted = asdict(model_config(config))
    differing = [key for key in wanted if saved.get(key) != wanted[key]]
    if not differing:
        return []
    settings = ", ".join(f"train.{'model' if k == 'name' else k}: {saved.get(k)!r} vs {wanted[k]!r}" for k in differing)
    return [
        f"train.init: {path} was trained with other architecture settings (file vs config: {settings}); "
        "set them as the file has them, or set train.init to scratch"
    ]


def saved_model_config(config: dict, path: Path) -> dict:
    """Architecture settings of the init file (general models: from their metadata, without torch)."""
    if init_choice(config) == "general":
        return general_model_info(config["train"]["model"])["model_config"]
    import torch

    from .scoring import load_model

    return load_model(path, torch.device("cpu"))[1]["model_config"]


def particle_pixels(config: dict) -> float | None:
    """Preprocessed pixels per particle diameter: ``preprocess.particle_pixels``, else the general model's
    when training starts from it, else None (the scale comes from downsample or target_pixel_size)."""
    explicit = config["preprocess"].get("particle_pixels")
    if explicit:
        return float(explicit)
    if init_choice(config) == "general" and has_general_model(config["train"]["model"]):
        return float(general_model_info(config["train"]["model"])["particle_pixels"])
    return None


def scale_errors(config: dict) -> list[str]:
    """Preprocessing settings that contradict each other or the general model's scale and normalization."""
    pre, errors = config["preprocess"], []
    explicit = pre.get("particle_pixels")
    if explicit and pre["target_pixel_size"]:
        errors.append("preprocess.particle_pixels and preprocess.target_pixel_size both set the scale: keep one")
    family = config["train"]["model"]
    if init_choice(config) == "general" and has_general_model(family):
        info = general_model_info(family)
        fixed = f"train.init: general (the general {family} model was trained at {info['particle_pixels']:g} pixels per particle diameter, normalization {info['normalize']})"
        if explicit and float(explicit) != float(info["particle_pixels"]):
            errors.append(
                f"preprocess.particle_pixels: {explicit} contradicts {fixed}; remove it or set train.init: scratch"
            )
        if pre["target_pixel_size"]:
            errors.append(
                f"preprocess.target_pixel_size: {pre['target_pixel_size']} contradicts {fixed}; remove it or set train.init: scratch"
            )
        if pre["normalize"] != info["normalize"]:
            errors.append(
                f"preprocess.normalize: {pre['normalize']} contradicts {fixed}; set it to {info['normalize']} or set train.init: scratch"
            )
    pixels = particle_pixels(config)
    if pixels and config["particle_diameter"] / pixels < config["micrographs"]["pixel_size"]:
        errors.append(
            f"preprocess.particle_pixels: {pixels:g} pixels per {config['particle_diameter']:g} Å particle would need "
            f"{config['particle_diameter'] / pixels:.2f} Å/px, finer than micrographs.pixel_size "
            f"{config['micrographs']['pixel_size']:g} (pickflow does not upsample); set train.init: scratch"
        )
    return errors


def scale_warning(config: dict) -> str | None:
    """A note when ``preprocess.downsample`` is overridden by a scale in particle pixels."""
    pixels = particle_pixels(config)
    if pixels and config["preprocess"]["downsample"] != 1:
        return (
            f"preprocess.downsample {config['preprocess']['downsample']} is ignored: micrographs are preprocessed "
            f"to {pixels:g} pixels per particle diameter ({preprocessed_pixel_size(config):.2f} Å/px)"
            + (" as the general model needs (train.init)" if not config["preprocess"].get("particle_pixels") else "")
        )
    return None


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
    pixels = particle_pixels(config)
    if pixels:
        return float(config["particle_diameter"] / pixels)
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


def label_params(config: dict) -> dict:
    """Keyword arguments of :func:`pickflow.coordinates.read_labels` besides the files and keys."""
    labels = config["labels"]
    return {
        "fmt": labels["format"],
        "pixel_size": config["micrographs"]["pixel_size"],
        "name_suffixes": list(labels["cryosparc_suffixes"]),
    }


def preprocess_params(config: dict) -> dict:
    pre = config["preprocess"]
    return {
        "pixel_size": config["micrographs"]["pixel_size"],
        "downsample": pre["downsample"],
        "target_pixel_size": preprocessed_pixel_size(config) if particle_pixels(config) else pre["target_pixel_size"],
        "lowpass": pre["lowpass"],
        "normalize": pre["normalize"],
        "gmm": pre["gmm"],
        "seed": pre["seed"],
    }


def train_params(config: dict) -> dict:
    """Keyword arguments of :class:`pickflow.training.TrainConfig`."""
    t = config["train"]
    skip = set(MODEL_KEYS) | {"device", "threads", "init"}
    values = {k: v for k, v in t.items() if k not in skip}
    values["model"] = {"name": t["model"], **{k: t[k] for k in MODEL_KEYS[1:]}}
    path = init_file(config)
    values["init"] = init_choice(config) if path is None or init_choice(config) == "general" else str(path)
    values["init_sha256"] = file_sha256(path) if path else None
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


def batch_of(key: str, batches: int) -> int:
    """Scoring batch of a micrograph: a stable hash, so adding a micrograph reruns one batch only."""
    return zlib.crc32(key.encode()) % batches
