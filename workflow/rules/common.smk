# Helpers shared by the stage files: inputs found and checked once, at parse time, so that bad
# micrographs lists, coordinates or config values fail before any job starts.
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger

# The scripts of all jobs import the pickflow package of this checkout: put it on the path
# here and declare the variable, so that cluster jobs inherit it too.
sys.path.insert(0, workflow.basedir)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
)


envvars:
    "PYTHONPATH",


from pickflow import config as pickflow_config  # noqa: E402
from pickflow import crossval as pickflow_crossval  # noqa: E402
from pickflow import cryosparc as pickflow_cryosparc  # noqa: E402
from pickflow import inputs as pickflow_inputs  # noqa: E402
from pickflow.errors import InputError  # noqa: E402

PLOTS = [
    "training",
    "precision_recall",
    "picks_per_micrograph",
    "score_histogram",
    "overlays",
    "preprocessing",
    "normalization",
]
CV_PLOTS = ["cv_metric_vs_value", "cv_metric_vs_epoch", "cv_fold_curves"]


def _checked(function, *args):
    """Run an input check; report its message as a workflow error (no traceback)."""
    try:
        return function(*args)
    except InputError as exc:
        raise WorkflowError(str(exc)) from None


_checked(pickflow_config.check_semantics, config)
MICROGRAPHS = _checked(
    pickflow_inputs.discover_micrographs, config["micrographs"]["path"]
)
# Each micrograph's path as the input named it: the STAR outputs name micrographs by it, as RELION does.
MICROGRAPH_NAMES = {key: str(path) for key, path in MICROGRAPHS.items()}
COORDINATE_FILES = _checked(
    pickflow_inputs.coordinate_files, config["labels"]["coordinates"]
)
LABELED = sorted(
    _checked(
        pickflow_inputs.load_checked_labels,
        MICROGRAPHS,
        COORDINATE_FILES,
        pickflow_config.label_params(config),
    )["micrograph"].unique()
)
_checked(
    pickflow_inputs.check_split_possible,
    len(LABELED),
    config["split"]["test_fraction"],
)
for _warning in pickflow_cryosparc.twin_warnings(MICROGRAPHS):
    logger.warning(f"pickflow: {_warning}")
for _warning in (
    pickflow_config.receptive_field_warning(config),
    pickflow_config.scale_warning(config),
):
    if _warning:
        logger.warning(f"pickflow: {_warning}")

BATCHES = {}
for _key in sorted(MICROGRAPHS):
    BATCHES.setdefault(
        pickflow_config.batch_of(_key, config["pick"]["batches"]), []
    ).append(_key)


def package(*modules):
    """Package modules imported by a job's script; editing them reruns the job."""
    return [
        os.path.join(workflow.basedir, "pickflow", f"{module}.py") for module in modules
    ]


def micrograph_path(wildcards):
    return str(MICROGRAPHS[wildcards.mic])


def preprocessed(keys, suffix="mrc"):
    return [f"results/preprocessed/{key}.{suffix}" for key in keys]


def batch_micrographs(wildcards):
    return preprocessed(BATCHES[int(wildcards.batch)])


def batch_metadata(wildcards):
    return preprocessed(BATCHES[int(wildcards.batch)], "json")


def all_candidates(wildcards):
    return [f"results/pick/candidates/batch{b}.csv" for b in sorted(BATCHES)]


def preprocessed_dir(wildcards, input):
    return os.path.dirname(input.preprocessed_meta[0])


TRAINING_CODE = package(
    "training",
    "general_models",
    "models",
    "losses",
    "sampling",
    "prior",
    "evaluation",
    "extract",
    "scoring",
)
CV_VALUES = (
    {
        pickflow_crossval.value_key(v): v
        for v in pickflow_crossval.cv_values(config["cv"])
    }
    if config["cv"]["enabled"]
    else {}
)


def init_model(wildcards):
    """The model files training starts from (train.init), so that a changed file retrains: the
    configured one, or with cross-validation those of the value of this job (all values for the
    final training)."""
    if "value" in wildcards.keys():
        configs = [pickflow_config.with_value(config, CV_VALUES[wildcards.value])]
    elif config["cv"]["enabled"]:
        configs = [pickflow_config.with_value(config, v) for v in CV_VALUES.values()]
    else:
        configs = [config]
    paths = {pickflow_config.init_file(c) for c in configs}
    return sorted(str(p) for p in paths if p)


def cv_fold_params(wildcards):
    """Training settings of one cross-validation job: the config with the value swapped in."""
    changed = pickflow_config.with_value(config, CV_VALUES[wildcards.value])
    return pickflow_config.train_params(changed)


def cv_fold_metrics(wildcards):
    return [
        f"results/cv/{value}/fold{fold}/metrics.csv"
        for value in CV_VALUES
        for fold in range(config["cv"]["folds"])
    ]


def final_train_params():
    """Without cross-validation: the configured settings. With it: one variant per value; the
    training job applies the value and epoch count chosen in results/cv/best.json."""
    if not config["cv"]["enabled"]:
        return pickflow_config.train_params(config)
    return {
        "variants": {
            key: pickflow_config.train_params(pickflow_config.with_value(config, value))
            for key, value in CV_VALUES.items()
        }
    }


def cv_best(wildcards):
    return ["results/cv/best.json"] if config["cv"]["enabled"] else []


THUMBNAILS = sorted(MICROGRAPHS)[:3]


def thumbnail_inputs(wildcards):
    return [str(MICROGRAPHS[key]) for key in THUMBNAILS]


def final_outputs():
    """Everything a run produces: picks in every format, figures, and the report summary."""
    plots = PLOTS + (CV_PLOTS if config["cv"]["enabled"] else [])
    return [
        "results/picks/particles.star",
        "results/picks/particles.csv",
        "results/picks/particles_topaz.txt",
        "results/report/summary.rst",
        *[f"results/plots/{plot}.png" for plot in plots],
    ]
