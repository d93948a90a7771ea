"""Simulate a cryo-EM data set with known particle positions (see pickflow/simulate.py).

Writes OUTDIR/micrographs/sim_NNNN.mrc, ground_truth.csv (every particle), junk.csv, labels.csv and
labels.star (the partial, jittered labels) and simulation.json (all settings, with the seed).
Needs no Snakemake; run it from the repository root with the package on the path:
    PYTHONPATH=. python scripts/simulate.py OUTDIR [--preset easy|hard] [--micrographs N] [--size PX] [--seed S]
    PYTHONPATH=. python scripts/simulate.py OUT --preset hard --set snr=0.02 --set 'defocus_range=[1.0, 2.0]'
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time

from pickflow.simulate import PRESETS, SimulationConfig, write_dataset

log = logging.getLogger("pickflow.simulate")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    return p


def build_config(args: argparse.Namespace) -> SimulationConfig:
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


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = build_config(args)
    except (TypeError, ValueError) as exc:
        p.error(str(exc))
    start = time.perf_counter()
    summary = write_dataset(cfg, args.outdir, args.processes)
    n_particles = sum(m["particles"] for m in summary["micrographs"])
    n_labels = sum(m["labels"] for m in summary["micrographs"])
    log.info(
        "wrote %d micrographs (%d particles, %d labels) to %s in %.1f s",
        cfg.micrographs,
        n_particles,
        n_labels,
        args.outdir,
        time.perf_counter() - start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
