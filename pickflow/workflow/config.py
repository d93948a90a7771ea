"""The run configuration: schema validation (with defaults), semantic checks, and the settings
each step receives. The workflow (through rule params) and the scripts' command lines both use
these functions, so a setting means the same thing everywhere; each rule gets only the settings its
step uses (the ``*_params`` functions), so that editing another setting does not rerun it. Defaults and
allowed values are the schema's (:mod:`pickflow.schema`)."""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, TypeVar, cast

import jsonschema
import jsonschema.validators  # loaded by `import jsonschema` too, but a type checker sees it only when named
import yaml

from ..errors import InputError
from ..models import CONVNETS, RESNETS, SEGMENTATION, ModelConfig, architecture_receptive_field, config_errors
from ..models.general import file_sha256, general_model_info, general_model_path, has_general_model
from ..schema import SCHEMA, full_schema

# The train.* keys of the architecture: train.model is ModelConfig.name, the others have ModelConfig's names.
MODEL_KEYS = ("model", *(f.name for f in fields(ModelConfig) if f.name != "name"))
# Settings that say how fast a job runs, not what it makes: editing them reruns nothing.
SPEED_ONLY = ("preprocess.threads", "train.threads", "pick.threads")
log = logging.getLogger(__name__)
T = TypeVar("T")


def validate(config: dict) -> dict:
    """Check ``config`` against the schema and fill in defaults (returns a validated copy)."""
    checked = copy.deepcopy(config)
    check_schema(checked)
    check_semantics(checked)
    return checked


def load_config(path: str | Path) -> dict:
    """Read and validate a pickflow config file."""
    check_config_file(path)
    return validate(yaml.safe_load(Path(path).read_text()) or {})


def check_schema(config: dict) -> None:
    """Check ``config`` against the schema, in place: numbers PyYAML reads as strings ('1e-4') become
    numbers, defaults are filled in, and each violation is one line naming its key."""
    from snakemake.utils import validate as snakemake_validate

    schema = full_schema()
    _numbers_from_strings(config, schema)
    cv = config.get("cv")
    if isinstance(cv, dict) and isinstance(cv.get("values"), list):  # typed as their training parameter
        parameter = _train_schema(schema, cv.get("parameter", "expected_particles"))
        cv["values"] = [_as_number(value, parameter) for value in cv["values"]]
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(_schema_error(error) for error in validator.iter_errors(config))
    if errors:
        raise InputError("config: " + "; ".join(errors))
    snakemake_validate(config, str(SCHEMA), set_default=True)


def check_config_file(path: str | Path) -> None:
    """Raise an InputError naming the file and line when ``path`` exists but is not valid YAML."""
    path = Path(path)
    if not path.is_file():
        return
    try:
        yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise InputError(f"{path}: not valid YAML at {where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None


def checked(function: Callable[..., T], *args: object) -> T:
    """Run an input check in the Snakefile; report its message as a workflow error (no traceback)."""
    from snakemake.exceptions import WorkflowError

    try:
        return function(*args)
    except InputError as exc:
        raise WorkflowError(str(exc)) from None


def _key_path(path: Iterable[object]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _schema_error(error: jsonschema.ValidationError) -> str:
    """One line for a schema violation: the key, what is wrong, what to do."""
    where = _key_path(error.absolute_path)
    if error.validator == "required":
        # A "required" error holds the required names, the object lacking one and the object schema; jsonschema
        # annotates these attributes for every validator (a schema may be a boolean) and for errors built unset.
        required = cast(list[str], error.validator_value)
        instance = cast(Mapping[str, Any], error.instance)
        object_schema = cast(Mapping[str, Any], error.schema)
        missing = [name for name in required if name not in instance]
        described = object_schema["properties"][missing[0]].get("description")
        key = f"{where}.{missing[0]}" if where else missing[0]
        return f"{key}: missing; set it in config.yaml" + (f" ({described})" if described else "")
    if error.validator == "additionalProperties":
        return f"{where or 'config.yaml'}: {error.message}; check the spelling against config.yaml's keys"
    return f"{where}: {error.message}"


def _types(schema: dict) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def _as_number(value: object, schema: dict) -> object:
    """``value`` as a float when it is a string such as '1e-4' and the schema wants a number."""
    if isinstance(value, str) and "number" in _types(schema) and "string" not in _types(schema):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _numbers_from_strings(config: dict, schema: dict) -> None:
    for key, value in config.items():
        sub = schema.get("properties", {}).get(key, {})
        if isinstance(value, dict):
            _numbers_from_strings(value, sub)
        else:
            config[key] = _as_number(value, sub)


def _train_schema(schema: dict, key: object) -> dict:
    return schema.get("properties", {}).get("train", {}).get("properties", {}).get(key, {})


def _value_errors(config: dict, schema: dict, where: str = "") -> list[str]:
    """Numbers that are not finite (.nan, .inf), and whole numbers written with a decimal point
    (2.0) where the schema wants an integer: JSON schema lets both through."""
    errors = []
    for key, value in config.items():
        sub, path = schema.get("properties", {}).get(key, {}), f"{where}{key}"
        if isinstance(value, dict):
            errors += _value_errors(value, sub, f"{path}.")
        else:
            errors += _number_errors(value, sub, path)
    return errors


def _cv_value_errors(config: dict, schema: dict) -> list[str]:
    """:func:`_value_errors` for each cross-validated value, typed as its training parameter."""
    parameter = _train_schema(schema, config["cv"]["parameter"])
    return [e for i, v in enumerate(config["cv"]["values"]) for e in _number_errors(v, parameter, f"cv.values[{i}]")]


def _number_errors(value: object, schema: dict, path: str) -> list[str]:
    if not isinstance(value, float):
        return []
    if not math.isfinite(value):
        return [f"{path}: {value} is not a finite number"]
    if value.is_integer() and "integer" in _types(schema) and "number" not in _types(schema):
        return [f"{path}: {value} must be a whole number written without a decimal point ({int(value)})"]
    return []


def check_semantics(config: dict) -> None:
    """Errors the schema cannot express (numbers that are not finite or not whole, forbidden model
    combinations, cross-validation values)."""
    schema = full_schema()
    errors = _value_errors(config, schema) + _cv_value_errors(config, schema)
    if errors:
        raise InputError("config: " + "; ".join(errors))
    errors = train_errors(config) + _pixel_size_errors(config) + _picking_errors(config) + scale_errors(config)
    if config["cv"]["enabled"]:
        errors += _cv_errors(config)
    if errors:
        raise InputError("config: " + "; ".join(errors))


def _pixel_size_errors(config: dict) -> list[str]:
    target = config["preprocess"]["target_pixel_size"]
    pixel_size = config["micrographs"]["pixel_size"]
    if target is not None and target < pixel_size:
        return [
            f"preprocess.target_pixel_size ({target} Å) is below micrographs.pixel_size ({pixel_size} Å): "
            "preprocessing only downsamples; set target_pixel_size to at least the pixel size, or null"
        ]
    return []


def has_labels(config: dict) -> bool:
    """Whether the run has labeled coordinates (``labels.coordinates`` is set)."""
    return config["labels"].get("coordinates") is not None


def picking_model(config: dict) -> str:
    """``pick.model`` resolved: 'trained', 'general' or the path of a model file."""
    choice = config["pick"]["model"]
    if choice == "auto":
        return "trained" if has_labels(config) else "general"
    return choice


def picking_model_label(config: dict) -> str:
    """Which model picks, in words (for the report and the figures)."""
    choice = picking_model(config)
    if choice == "trained":
        return "the model trained in this run"
    if choice == "general":
        return f"the shipped general {config['train']['model']} model"
    return f"the model file {choice}"


def trains(config: dict) -> bool:
    """Whether this run trains the model that picks."""
    return picking_model(config) == "trained"


def picking_model_path(config: dict) -> Path | None:
    """The model file that picks when this run does not train one (None when it does).
    Raises :class:`InputError` when the file does not exist."""
    from ..models.general import general_model_path

    choice = picking_model(config)
    if choice == "trained":
        return None
    if choice == "general":
        return general_model_path(config["train"]["model"])
    path = Path(choice)
    if not path.is_file():
        raise InputError(
            f"pick.model: '{choice}' is not a model file (relative to the working directory). Give the path of a "
            "model.pt from an earlier run, or 'general', 'trained' or 'auto'."
        )
    return path


def _picking_errors(config: dict) -> list[str]:
    """Picking without training: labels only evaluate, and without labels the threshold needs no labels."""
    errors = []
    choice = picking_model(config)
    if choice == "trained" and not has_labels(config):
        errors.append(
            "pick.model: 'trained' needs labels; set labels.coordinates, or pick with 'general' or a model path"
        )
    if choice != "trained" and config["cv"]["enabled"]:
        errors.append(f"cv.enabled: cross-validation trains models, but pick.model is '{choice}' (no training)")
    mode = config["pick"]["threshold"]["mode"]
    if not has_labels(config) and mode not in ("expected", "value"):
        errors.append(
            f"pick.threshold.mode: '{mode}' needs labeled micrographs; without labels use 'expected' "
            "(about train.expected_particles picks per micrograph) or 'value'"
        )
    return errors


def _cv_errors(config: dict) -> list[str]:
    from ..training.crossval import cv_values, value_key

    cv = config["cv"]
    ranged = [cv[k] is not None for k in ("initial", "increment", "count")]
    if bool(cv["values"]) == all(ranged) or (any(ranged) and not all(ranged)):
        return ["cv: give either cv.values or all of cv.initial, cv.increment and cv.count"]
    values = cv_values(cv)
    if len({value_key(v) for v in values}) != len(values):
        return [f"cv.values: values must be distinct, got {values}"]
    schema = _train_schema(full_schema(), cv["parameter"])
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

    from ..models.modelfile import load

    return load(path, torch.device("cpu"))["model_config"]


def particle_pixels(config: dict) -> float | None:
    """Preprocessed pixels per particle diameter: ``preprocess.particle_pixels``, else the general model's
    when training starts from it, else None (the scale comes from downsample or target_pixel_size)."""
    explicit = config["preprocess"].get("particle_pixels")
    if explicit:
        return float(explicit)
    if uses_general_model(config):
        return float(general_model_info(config["train"]["model"])["particle_pixels"])
    return None


def uses_general_model(config: dict) -> bool:
    """Whether the shipped general model's scale and normalization apply: it picks (``pick.model: general``),
    or the training this run does starts from it (``train.init: general``)."""
    if not has_general_model(config["train"]["model"]):
        return False
    if trains(config):
        return init_choice(config) == "general"
    return picking_model(config) == "general"


def scale_errors(config: dict) -> list[str]:
    """Preprocessing settings that contradict each other or the general model's scale and normalization."""
    pre, errors = config["preprocess"], []
    explicit = pre.get("particle_pixels")
    if explicit and pre["target_pixel_size"]:
        errors.append("preprocess.particle_pixels and preprocess.target_pixel_size both set the scale: keep one")
    family = config["train"]["model"]
    if uses_general_model(config):
        info = general_model_info(family)
        source = "train.init: general" if trains(config) else "pick.model: general"
        fixed = f"{source} (the general {family} model was trained at {info['particle_pixels']:g} pixels per particle diameter, normalization {info['normalize']})"
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
    rf = architecture_receptive_field(model_config(config))
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
    """Keyword arguments of :func:`pickflow.io.coordinates.read_labels` besides the files and keys."""
    labels = config["labels"]
    return {
        "fmt": labels["format"],
        "pixel_size": config["micrographs"]["pixel_size"],
        "name_suffixes": list(labels["cryosparc_suffixes"]),
    }


def check_prior(config: dict, micrographs: list[Path]) -> None:
    """Raise an InputError unless the class prior pi on ``micrographs`` (the labeled ones, shapes from
    their headers, after downsampling) stays below 1, for the configured and every cross-validated value."""
    from ..io.micrographs import read_shape
    from ..preprocess.image import output_shape
    from ..training.prior import class_prior, largest_expected

    pre = config["preprocess"]
    pixel_size = config["micrographs"]["pixel_size"]
    try:
        shapes = [
            output_shape(read_shape(p), pixel_size, pre["downsample"], pre["target_pixel_size"]) for p in micrographs
        ]
    except ValueError:
        return  # a target pixel size below the input's: reported by the preprocessing checks
    total = sum(ny * nx for ny, nx in shapes)
    errors = []
    for variant in [config, *cv_variants(config)]:
        expected, radius = variant["train"]["expected_particles"], variant["train"]["label_radius"]
        pi = class_prior(expected, radius, len(shapes), total) if shapes else 0.0
        if pi >= 1:
            errors.append(
                f"train.expected_particles={expected} with train.label_radius={radius} gives a class prior "
                f"pi={pi:.3g} on the {len(shapes)} labeled micrographs ({total / len(shapes):.0f} pixels each after "
                f"preprocess.downsample/target_pixel_size): more positive pixels than the micrographs hold. "
                f"Set train.expected_particles below {largest_expected(radius, len(shapes), total):.4g}, lower "
                "train.label_radius, or downsample less."
            )
    if errors:
        raise InputError("config: " + "; ".join(errors))


def cv_variants(config: dict) -> list[dict]:
    """The config with each cross-validated value swapped in (none without cross-validation)."""
    from ..training.crossval import cv_values

    return [with_value(config, value) for value in cv_values(config["cv"])] if config["cv"]["enabled"] else []


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
    """Keyword arguments of :class:`pickflow.training.loop.TrainConfig`."""
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
        "average_symmetries": p["average_symmetries"],
    }


def split_params(config: dict) -> dict:
    """Keyword arguments of :func:`pickflow.steps.split.split_labels` besides the files."""
    split = config["split"]
    return {"test_fraction": split["test_fraction"], "seed": split["seed"]}


def folds_params(config: dict) -> dict:
    """Keyword arguments of :func:`pickflow.steps.folds.write_folds` besides the files."""
    cv = config["cv"]
    return {"folds": cv["folds"], "seed": cv["seed"]}


def cv_params(config: dict) -> dict:
    """The cross-validation settings :func:`pickflow.steps.cv_aggregate.aggregate_folds` uses: the parameter,
    the values tried (resolved from initial/increment/count; none when cross-validation is off), the metric and
    the number of folds."""
    from ..training.crossval import cv_values

    cv = config["cv"]
    values = cv_values(cv) if cv["enabled"] else []
    return {"parameter": cv["parameter"], "values": values, "metric": cv["metric"], "folds": cv["folds"]}


def report_settings(config: dict) -> dict:
    """The configuration the report prints: the settings that decide this run's results. Left out are the
    threads of each job (:data:`SPEED_ONLY`) and, when cross-validation is off, its settings besides
    ``cv.enabled``, so that editing only those reruns no job, the report included."""
    shown = copy.deepcopy(dict(config))
    for key in SPEED_ONLY:
        section, name = key.split(".")
        shown.get(section, {}).pop(name, None)
    if not shown["cv"]["enabled"]:
        shown["cv"] = {"enabled": False}
    return shown


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


def gpus(device: str) -> int:
    """GPUs a training or scoring job asks the scheduler for: none when the config pins it to the CPU."""
    return 0 if device == "cpu" else 1
