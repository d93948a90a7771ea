"""The ``pickflow`` command: the workflow's steps people run by hand, one subcommand each.

Each subcommand reads its settings from a pickflow config file (``--config``) and calls the same function in
``pickflow.steps`` as the workflow's script for that step (``scripts/``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from .errors import InputError
from .io.inputs import discover_micrographs
from .io.micrographs import micrograph_key
from .io.records import ThresholdChoice
from .preprocess.preprocessed import write_preprocessed
from .simulate import PRESETS, SimulationConfig, write_dataset
from .steps import configure_logging, report_errors
from .steps.picks import FORMATS, output_paths, read_choice, write_picks
from .steps.score import score_micrographs
from .steps.train import train_picker
from .workflow.config import box_size, load_config, pick_params, preprocess_params, train_params
from .workflow.watch import WATCH_DIR, WatchOptions, watch

log = logging.getLogger("pickflow")


def require_files(*paths: str | None) -> None:
    """Raise an InputError naming the first of ``paths`` (None: not given) that is not a file."""
    for path in paths:
        if path is not None and not Path(path).is_file():
            raise InputError(f"{path}: no such file")


def preprocess(args: argparse.Namespace) -> None:
    require_files(*args.micrographs)
    params = preprocess_params(load_config(args.config))
    out = Path(args.outdir)
    for micrograph in args.micrographs:
        key = micrograph_key(micrograph)
        write_preprocessed(micrograph, out / f"{key}.json", params)
        log.info("%s -> %s", micrograph, out / f"{key}.mrc")


def score(args: argparse.Namespace) -> None:
    require_files(args.model, *args.micrographs)
    config = load_config(args.config)
    score_micrographs(
        args.model,
        args.micrographs,
        args.output,
        pick_params(config),
        args.device or config["pick"]["device"],
        args.threads or config["pick"]["threads"],
        args.normalization,
    )


def picks(args: argparse.Namespace) -> None:
    require_files(*args.candidates, args.threshold_file)
    config = load_config(args.config)
    if args.threshold is not None:
        choice = ThresholdChoice(args.threshold, "value", "given on the command line (pickflow picks --threshold)")
    else:
        choice = read_choice(args.threshold_file)
    found = discover_micrographs(args.micrographs or config["micrographs"]["path"])
    formats = tuple(dict.fromkeys(args.format or FORMATS))
    micrographs = {key: str(path) for key, path in found.items()}
    write_picks(args.candidates, choice, output_paths(args.outdir), box_size(config), micrographs, formats)


def train(args: argparse.Namespace) -> None:
    require_files(args.labels, args.split, *args.micrographs)
    config = load_config(args.config)
    out = Path(args.outdir)
    outputs = {name: out / f"{name}.{suffix}" for name, suffix in TRAIN_OUTPUTS.items()}
    train_picker(
        args.micrographs,
        args.labels,
        args.split,
        outputs,
        train_params(config),
        config["train"]["device"],
        config["train"]["threads"],
    )


TRAIN_OUTPUTS = {"model": "pt", "last": "pt", "metrics": "csv", "summary": "json"}


def simulation_config(args: argparse.Namespace) -> SimulationConfig:
    """Preset, then the named options, then ``--set`` overrides."""
    settings = dict(PRESETS[args.preset])
    named = {
        "micrographs": args.micrographs,
        "image_size": args.size,
        "pixel_size": args.pixel_size,
        "particles_per_micrograph": args.particles,
        "seed": args.seed,
        "label_fraction": args.label_fraction,
        "label_jitter": args.label_jitter,
        "snr": args.snr,
        "defocus_range": args.defocus,
    }
    settings.update({k: v for k, v in named.items() if v is not None})
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r}: use KEY=VALUE")
        try:
            settings[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            settings[key.strip()] = value
    return SimulationConfig.from_dict({k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()})


def simulate(args: argparse.Namespace) -> None:
    try:
        cfg = simulation_config(args)
    except (TypeError, ValueError) as exc:
        args.subparser.error(str(exc))
    start = time.perf_counter()
    summary = write_dataset(cfg, args.outdir, args.processes)
    log.info(
        "wrote %d micrographs (%d particles, %d labels) to %s in %.1f s",
        cfg.micrographs,
        sum(m["particles"] for m in summary["micrographs"]),
        sum(m["labels"] for m in summary["micrographs"]),
        args.outdir,
        time.perf_counter() - start,
    )


def watch_command(args: argparse.Namespace) -> None:
    options = WatchOptions(args.config, args.interval, args.settle, args.cores, args.profile, args.stop_when_idle)
    watch(options)


def _log_option(p: argparse.ArgumentParser, default: str | None = None) -> None:
    p.add_argument("--log", default=default, help=f"also write the log to this file (default: {default})")


def _common_options(p: argparse.ArgumentParser, log: str | None = None) -> None:
    """``--config`` and ``--log``."""
    p.add_argument("--config", default="config.yaml", help="pickflow config file (default: config.yaml)")
    _log_option(p, log)


def _add_preprocess(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess", help="micrographs -> preprocessed MRC + JSON (settings: the config's preprocess)")
    p.add_argument("micrographs", nargs="+", help="MRC, TIFF or image files")
    p.add_argument("--outdir", required=True, help="writes OUTDIR/NAME.mrc and OUTDIR/NAME.json per micrograph")
    _common_options(p)
    p.set_defaults(run=preprocess)


def _add_score(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score", help="a model + preprocessed micrographs -> candidates CSV (settings: the config's pick)"
    )
    p.add_argument("model", help="a model file (results/train/model.pt or a general model)")
    p.add_argument("micrographs", nargs="+", help="preprocessed MRC files (their .json beside them)")
    p.add_argument(
        "--output", required=True, help="candidates CSV: micrograph, x, y (full-size px), x_pre, y_pre, score"
    )
    p.add_argument("--normalization", help="also write the micrographs' normalization statistics here (JSON)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or auto (default: the config's pick.device)")
    p.add_argument("--threads", type=int, help="CPU threads (default: the config's pick.threads)")
    _common_options(p)
    p.set_defaults(run=score)


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="labels + split + preprocessed micrographs -> a model (settings: the config's train)"
    )
    p.add_argument("micrographs", nargs="+", help="preprocessed MRC files of the split's micrographs")
    p.add_argument("--labels", required=True, help="labels table of the labels step (results/labels/labels.csv)")
    p.add_argument("--split", required=True, help="split.json with 'train' and 'test' micrograph names")
    p.add_argument(
        "--outdir", required=True, help="writes model.pt (best epoch), last.pt, metrics.csv and summary.json"
    )
    _common_options(p)
    p.set_defaults(run=train)


def _add_picks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("picks", help="candidates + threshold -> coordinate files (star, relion, cs, csv, topaz, box)")
    p.add_argument("candidates", nargs="+", help="candidates CSV files (pickflow score, results/pick/candidates/)")
    threshold = p.add_mutually_exclusive_group(required=True)
    threshold.add_argument("--threshold", type=float, help="keep candidates scoring at least this")
    threshold.add_argument("--threshold-file", help="threshold.json of a run (results/pick/threshold.json)")
    p.add_argument("--outdir", required=True, help="folder for the coordinate files and summary.json")
    p.add_argument(
        "--format", action="append", choices=FORMATS, help="a format to write (repeatable; default: all of them)"
    )
    p.add_argument("--micrographs", help="the full-size micrographs: a glob or list file (default: the config's)")
    _common_options(p)
    p.set_defaults(run=picks)


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="a simulated data set with known particle positions",
        description="Writes OUTDIR/micrographs/sim_NNNN.mrc, ground_truth.csv (every particle), junk.csv, labels.csv "
        "and labels.star (the partial, jittered labels) and simulation.json (all settings, with the seed).",
    )
    p.add_argument("outdir", help="output folder (created)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="easy", help="starting settings (default: easy)")
    p.add_argument("--micrographs", type=int, help="number of micrographs")
    p.add_argument("--size", type=int, help="micrograph width = height in pixels")
    p.add_argument("--pixel-size", type=float, help="Å per pixel")
    p.add_argument("--particles", type=int, help="particles per micrograph")
    p.add_argument("--seed", type=int, help="random seed (same seed = same data set)")
    p.add_argument("--label-fraction", type=float, help="fraction of the particles written as labels")
    p.add_argument("--label-jitter", type=float, help="maximum label displacement in pixels")
    p.add_argument("--snr", type=float, help="per-pixel signal-to-noise ratio of the particles")
    p.add_argument("--defocus", type=float, nargs=2, metavar=("MIN", "MAX"), help="defocus range in µm")
    p.add_argument("--processes", type=int, default=1, help="simulate in this many processes (the same files)")
    names = ", ".join(f.name for f in dataclasses.fields(SimulationConfig))
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"any other setting, VALUE as JSON (repeatable). Settings: {names}",
    )
    _log_option(p)
    p.set_defaults(run=simulate, subparser=p)


def _add_watch(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch",
        help="pick micrographs as they appear, with the project's trained model (run in the project directory)",
        description="Polls the config's micrographs glob and reruns the workflow for the picks of new micrographs, "
        "never retraining; delays go to results/watch/delays.csv. Train once with snakemake first.",
    )
    defaults = WatchOptions()
    _common_options(p, log=str(WATCH_DIR / "watch.log"))
    p.add_argument("--interval", type=float, default=defaults.interval, help="seconds between polls (default 30)")
    p.add_argument("--settle", type=float, default=defaults.settle, help="seconds a file's size must stay the same")
    p.add_argument("--cores", type=int, default=defaults.cores)
    p.add_argument("--profile", help="Snakemake profile for the runs, e.g. profiles/slurm")
    p.add_argument("--stop-when-idle", type=float, help="stop after this many seconds without a new micrograph")
    p.set_defaults(run=watch_command)


SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_preprocess,
    _add_score,
    _add_train,
    _add_picks,
    _add_simulate,
    _add_watch,
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pickflow", description="pickflow: the workflow's steps people run by hand.")
    sub = p.add_subparsers(title="subcommands", required=True, metavar="SUBCOMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.log:
        Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    configure_logging(args.log)
    report_errors(args.run, args=args)
