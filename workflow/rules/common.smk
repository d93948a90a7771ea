# Helpers shared by the stage files: inputs found and checked once, at parse time, so that bad
# micrographs lists, coordinates or config values fail before any job starts.
import functools
import gc
import json
import os
import sys
from pathlib import Path

from snakemake.logging import logger

# Snakemake holds a few hundred objects per job, and Python's default collection threshold (700
# allocations) makes it walk them all again and again while it builds the DAG of a large project:
# collecting less often takes about 15% off a dry run of 5,000 micrographs, at the same peak memory
# (benchmarks/scale.py).
gc.set_threshold(50_000, 20, 100)

# The scripts of all jobs import the pickflow package of this checkout: put it on the path
# here and declare the variable, so that cluster jobs inherit it too.
sys.path.insert(0, workflow.basedir)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
)


envvars:
    "PYTHONPATH",


from pickflow.picking import batches as pickflow_batches  # noqa: E402
from pickflow.workflow import codedeps as pickflow_codedeps  # noqa: E402
from pickflow.workflow import config as pickflow_config  # noqa: E402
from pickflow.training import crossval as pickflow_crossval  # noqa: E402
from pickflow.io import cryosparc as pickflow_cryosparc  # noqa: E402
from pickflow.workflow import fingerprint as pickflow_fingerprint  # noqa: E402
from pickflow.io import inputs as pickflow_inputs  # noqa: E402
from pickflow.io import records as pickflow_records  # noqa: E402
from pickflow.workflow import sanity as pickflow_sanity  # noqa: E402

PLOTS = [
    "training",
    "precision_recall",
    "picks_per_micrograph",
    "score_histogram",
    "overlays",
    "overview",
    "preprocessing",
    "normalization",
]
CV_PLOTS = ["cv_metric_vs_value", "cv_metric_vs_epoch", "cv_fold_curves"]


_checked = pickflow_config.checked
_checked(pickflow_config.check_semantics, config)
MICROGRAPHS = _checked(
    pickflow_inputs.discover_micrographs, config["micrographs"]["path"]
)
# Without labels (labels.coordinates: null) a given model picks; with pick.model other than
# 'trained' the labels only evaluate: no split, folds or training jobs.
HAS_LABELS = pickflow_config.has_labels(config)
TRAINS = pickflow_config.trains(config)
COORDINATE_FILES = (
    _checked(
        pickflow_inputs.coordinate_files,
        config["labels"]["coordinates"],
        Path("."),
        config["labels"]["format"],
    )
    if HAS_LABELS
    else []
)
LABELS = (
    _checked(
        pickflow_inputs.load_checked_labels,
        MICROGRAPHS,
        COORDINATE_FILES,
        pickflow_config.label_params(config),
    )
    if HAS_LABELS
    else pickflow_inputs.no_labels()
)
LABELED = sorted(LABELS["micrograph"].unique())
if TRAINS:
    _checked(pickflow_config.check_prior, config, [MICROGRAPHS[key] for key in LABELED])
    _checked(
        pickflow_inputs.check_split_possible,
        len(LABELED),
        config["split"]["test_fraction"],
    )
    PICKING_MODEL = "results/train/model.pt"
else:
    PICKING_MODEL = str(_checked(pickflow_config.picking_model_path, config))
    logger.info(f"pickflow: picking with {PICKING_MODEL}; no training in this run")
if config["cv"]["enabled"]:
    _checked(
        pickflow_inputs.check_folds_possible,
        len(LABELED),
        config["split"]["test_fraction"],
        config["cv"]["folds"],
    )
# Labeled micrographs were header-checked with their labels (a bad one is always an error); the others
# fail the run or are left out, as micrographs.on_error says. Headers and content fingerprints come from
# a cache keyed by path and stat: an unchanged micrograph is not opened again.
MICROGRAPH_CACHE = pickflow_fingerprint.MicrographCache()
HEADERS, _problems = pickflow_inputs.read_headers(
    {key: path for key, path in MICROGRAPHS.items() if key not in LABELED},
    MICROGRAPH_CACHE.header,
)
MICROGRAPH_CACHE.save()
SKIPPED = _checked(
    pickflow_inputs.screen_micrographs, _problems, config["micrographs"]["on_error"]
)
for _reason in SKIPPED.values():
    logger.warning(
        f"pickflow: LEFT OUT of this run (micrographs.on_error: skip), no picks: {_reason}"
    )
MICROGRAPHS = {key: path for key, path in MICROGRAPHS.items() if key not in SKIPPED}
HEADERS.update(
    pickflow_inputs.read_headers(
        {k: MICROGRAPHS[k] for k in LABELED}, MICROGRAPH_CACHE.header
    )[0]
)
# Each micrograph's path as the input named it: the STAR outputs name micrographs by it, as RELION does.
MICROGRAPH_NAMES = {key: str(path) for key, path in MICROGRAPHS.items()}
for _warning in [
    *pickflow_cryosparc.twin_warnings(MICROGRAPHS),
    pickflow_config.receptive_field_warning(config),
    pickflow_config.scale_warning(config),
    *pickflow_sanity.input_warnings(config, LABELS, HEADERS),
]:
    if _warning:
        logger.warning(f"pickflow: {_warning}")

BATCHES = pickflow_batches.score_batches(MICROGRAPHS, config["pick"]["batch_size"])
GROUPS = pickflow_batches.merge_groups(BATCHES, pickflow_batches.MERGE_SIZE)


def gpu_job_resources(device, minutes):
    """Generic resources of a training or scoring job: a GPU (none when the config pins the device to
    the CPU), the job's threads as CPUs per GPU, memory and a runtime that grow on each retry. Site
    specifics (partitions, account, GPU model) stay in the profile."""
    return {
        "gpu": pickflow_config.gpus(device),
        "cpus_per_gpu": lambda wildcards, threads: threads,
        "mem_mb": lambda wildcards, attempt: 16000 * attempt,
        "runtime": lambda wildcards, attempt: minutes * attempt,
    }


# The preprocess jobs run their script as a command line (see their rule) with the Python that runs
# the `script:` jobs: this one, or the job's environment's where jobs run in a conda environment or
# container. Environment variables, not params, so that neither decides reruns.
os.environ["PICKFLOW_PYTHON"] = (
    "python" if workflow.deployment_settings.deployment_method else sys.executable
)
os.environ["PICKFLOW_SCRIPTS"] = str(Path(workflow.basedir) / "scripts")


envvars:
    "PICKFLOW_PYTHON",
    "PICKFLOW_SCRIPTS",


@functools.cache
def script_code(name):
    """Digest of scripts/<name>.py and every pickflow module it imports (found from its imports):
    a rule's params carry it, so editing any of that code reruns the rule's jobs."""
    root = Path(workflow.basedir)
    return pickflow_codedeps.code_digest(root / "scripts" / f"{name}.py", root)


def micrograph_path(wildcards):
    """The input micrograph, ancient: its content fingerprint (params) decides reruns, not its file time."""
    return ancient(str(MICROGRAPHS[wildcards.mic]))


FINGERPRINTS = {
    key: MICROGRAPH_CACHE.fingerprint(path) for key, path in MICROGRAPHS.items()
}
MICROGRAPH_CACHE.save()
# What every micrograph's preprocessing identity shares is hashed once (it is asked once per job).
_identity_of_fingerprint = pickflow_codedeps.digest_of_extended(
    [pickflow_config.preprocess_params(config), script_code("preprocess")]
)


@functools.cache
def preprocessing_identity(key):
    """Digest of everything a preprocessed micrograph follows from: the micrograph's content
    fingerprint, the preprocessing settings and code. Its preprocessing job records it in the .json.
    """
    return _identity_of_fingerprint(FINGERPRINTS[key])


def preprocessed(keys, suffix="json"):
    """The preprocessed micrographs of ``keys``: their .json records, what Snakemake tracks (jobs read the .mrc
    beside each through pickflow.preprocess.preprocessed, which regenerates a purged one), or their .mrc files.
    """
    return [f"results/preprocessed/{key}.{suffix}" for key in keys]


def batch_micrographs(wildcards):
    return preprocessed(BATCHES[wildcards.batch])


def group_candidates(wildcards):
    return [f"results/pick/candidates/{batch}.csv" for batch in GROUPS[wildcards.group]]


def group_normalization(wildcards):
    return [
        f"results/pick/normalization/{batch}.json" for batch in GROUPS[wildcards.group]
    ]


def all_candidates(wildcards):
    """Every micrograph's candidates, one file per merge group of scoring batches (so that no job lists thousands
    of batch files)."""
    return [f"results/pick/merged/candidates/{group}.csv" for group in GROUPS]


def overview_inputs(wildcards):
    """The preprocessed micrographs the overview shows: those the picks job chose (at most 48)."""
    summary = checkpoints.picks.get().output.summary
    shown = pickflow_records.PickSummary.read(summary).overview_micrographs
    return preprocessed(shown)


def all_normalization(wildcards):
    """Normalization statistics of every micrograph, one file per merge group (not one per micrograph)."""
    return [f"results/pick/merged/normalization/{group}.json" for group in GROUPS]


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


def if_trained(*paths):
    """``paths`` when this run trains its model, else nothing."""
    return list(paths) if TRAINS else []


def if_labeled(*paths):
    """``paths`` when the run has labels, else nothing."""
    return list(paths) if HAS_LABELS else []


THUMBNAILS = sorted(MICROGRAPHS)[:3]


def thumbnail_inputs(wildcards):
    return [str(MICROGRAPHS[key]) for key in THUMBNAILS]


def final_outputs():
    """Everything a run produces: picks in every format, figures, and the report summary."""
    plots = PLOTS + (CV_PLOTS if config["cv"]["enabled"] else [])
    return [
        "results/inputs/skipped.json",
        "results/picks/particles.star",
        "results/picks/particles.csv",
        "results/picks/particles_topaz.txt",
        "results/report/summary.rst",
        *[f"results/plots/{plot}.png" for plot in plots],
    ]
