"""Accuracy, pickflow vs Topaz, on the real demo and on simulated data sets with complete ground truth.

Data sets: `demo` (the bundled EMPIAR-10028 micrographs; the truth is the expert's partial labels, so precision
is underestimated for every picker alike) and the `pickflow simulate` presets `easy` and `hard` (scored against
EVERY simulated particle). For each data set all pickers get the same preprocessed micrographs (pickflow's), the
same partial labels for training, the same split (train / validation for epoch selection / test, the test
micrographs never used by any picker before scoring) and the same number of updates. pickflow runs once per
model family (`--models`): resnet8 (32 units, the same model and minibatch of crops as Topaz) and unet (its own
default minibatch of one patch). Picks on the test micrographs are scored by one scorer (pickflow.picking.evaluation,
one-to-one matching within the particle radius). Reports AP, best F1 with its precision and recall, and training
wall time, as JSON and a markdown table.

    .venv/bin/python -m benchmarks.accuracy [--datasets demo easy hard] [--models resnet8 unet] [--epochs 3]
        [--seeds 0 1 2] [--skip-topaz]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import tables, topaz_cli
from benchmarks.common import RESULTS, WORK, demo_dataset, strip_extension
from benchmarks.side_by_side import (
    _topaz_targets,
    link_set,
    pickflow_command,
    pickflow_train_and_pick,
    topaz_train_and_pick,
    write_config,
)
from pickflow.picking.evaluation import summarize
from pickflow.report.provenance import collect
from pickflow.simulate import preset, write_dataset

TARGET_PIXEL_SIZE = 8.0  # Å per pixel after downsampling (Topaz's advice for ~250 Å particles)
# Simulated sets: (preset, overrides). lowsnr is like issue 15's first set (2048² at 2 Å/px, 150 Å particles, low
# SNR, 40% labels), with its own seed, apart from the seeds the general models were trained on.
SIMULATED = {
    "easy": ("easy", {"seed": 0}),
    "hard": ("hard", {"seed": 0}),
    "lowsnr": (
        "hard",
        {
            "image_size": 2048,
            "particle_radius": 75.0,
            "particles_per_micrograph": 200,
            "snr": 0.025,
            "label_fraction": 0.4,
            "seed": 50_000,
        },
    ),
}
SCORES = ("average_precision", "best_f1", "best_f1_precision", "best_f1_recall")


def simulated(work: Path, name: str, micrographs: int, image_size: int | None) -> dict:
    """A simulated data set (generated once): raw MRCs, partial labels and the full ground truth."""
    folder = work / f"sim_{name}"
    if not (folder / "simulation.json").exists():
        size = {"image_size": image_size} if image_size else {}
        base, overrides = SIMULATED[name]
        write_dataset(preset(base, **{**overrides, "micrographs": micrographs, **size}), folder)
    sim = json.loads((folder / "simulation.json").read_text())
    config = sim.get("config", sim)
    pixel = float(config["pixel_size"])
    return {
        "raw": sorted((folder / "micrographs").glob("*.mrc")),
        "labels": strip_extension(pd.read_csv(folder / "labels.csv")),
        "truth": strip_extension(pd.read_csv(folder / "ground_truth.csv")),
        "truth_note": "every simulated particle",
        "pixel": pixel,
        "radius_a": float(config["particle_radius"]),
        "particles": float(config["particles_per_micrograph"]),
        "image_size": int(config["image_size"]),
        "downsample": max(1, round(TARGET_PIXEL_SIZE / pixel)),
    }


def demo(work: Path) -> dict:
    """The bundled EMPIAR-10028 demo as raw MRCs; its partial expert labels are both labels and truth."""
    return {**demo_dataset(work / "demo_raw"), "image_size": 1024, "downsample": 2}  # the demo config's 10.7 Å/px


def run_dataset(work: Path, name: str, args: argparse.Namespace, seed: int) -> dict:
    data = demo(work) if name == "demo" else simulated(work, name, args.micrographs, args.image_size)
    pixel, radius_a, downsample = data["pixel"], data["radius_a"], data["downsample"]
    # train.init general fixes the scale (24 px per particle diameter); scratch keeps the data set's downsampling.
    pre = work / name / ("preprocessed" if args.init == "scratch" else f"preprocessed_{args.init}")
    pre.mkdir(parents=True, exist_ok=True)
    out = work / name / (f"seed{seed}" if args.init == "scratch" else f"{args.init}_seed{seed}")
    out.mkdir(parents=True, exist_ok=True)
    base = {
        "micrographs": {"path": str(data["raw"][0].parent / "*.mrc"), "pixel_size": pixel},
        "particle_diameter": 2 * radius_a,
        "labels": {"coordinates": str(out / "labels.csv")},
        "preprocess": {"downsample": downsample},
        "train": {"expected_particles": data["particles"], "init": args.init},
    }
    preprocess_config = write_config(pre, base, {}, {})  # one per scale: runs with another init may run at once
    for raw in data["raw"]:
        if not (pre / f"{raw.stem}.mrc").exists():
            pickflow_command(
                "preprocess",
                raw,
                "--outdir",
                pre,
                "--config",
                preprocess_config,
                threads=1,
                log=pre.parent / "logs" / f"preprocess_{raw.stem}.log",
            )
    meta = json.loads((pre / f"{data['raw'][0].stem}.json").read_text())
    scale_y, scale_x = meta["scale"]  # full-size px per preprocessed px (all micrographs of a set are one size)
    radius_pre = radius_a / (pixel * scale_x)
    labels, truth = data["labels"].copy(), data["truth"].copy()
    for table in (labels, truth):
        table["x_pre"], table["y_pre"] = table["x"] / scale_x, table["y"] / scale_y
    (out / "labels.csv").write_text(labels.to_csv(index=False))
    names = [r.stem for r in data["raw"]]
    order = np.random.default_rng(seed).permutation(names)
    n_test, n_val = max(1, round(0.3 * len(names))), max(1, round(0.2 * len(names)))
    split = {
        "test": sorted(order[:n_test]),
        "val": sorted(order[n_test : n_test + n_val]),
        "train": sorted(order[n_test + n_val :]),
    }
    (out / "split.json").write_text(json.dumps({"train": split["train"], "test": split["val"]}))
    test_set = link_set(pre, split["test"], out / "set_test")
    held_truth = truth[truth["micrograph"].isin(split["test"])][["micrograph", "x_pre", "y_pre"]].rename(
        columns={"x_pre": "x", "y_pre": "y"}
    )

    def score(picks: pd.DataFrame) -> dict:
        stats, _ = summarize(
            picks[picks["micrograph"].isin(split["test"])].reset_index(drop=True), held_truth, radius_pre
        )
        return {k: stats[k] for k in SCORES}

    result: dict = {
        "seed": seed,
        "truth": data["truth_note"],
        "init": args.init,
        "preprocessed_pixel_size": meta["pixel_size"],
        "particle_radius_px": radius_pre,
        "split": split,
        "labels_used": int(labels["micrograph"].isin(split["train"]).sum()),
        "particles_in_test": int(len(held_truth)),
        "pickers": {},
    }
    for model in args.models:
        minibatch = args.minibatch if model != "unet" else None  # None: the family's default (1 patch)
        train_cfg = {
            "minibatch_size": minibatch,
            "epoch_size": args.epoch_size,
            "epochs": args.epochs,
            "model": model,
            "units": 32,
            "learning_rate": args.learning_rate,
            "seed": seed,
            "device": "cpu",
            "threads": args.threads,
        }
        config = write_config(out, base, train_cfg, {"device": "cpu", "threads": args.threads})
        micrographs = [pre / f"{n}.mrc" for n in split["train"] + split["val"]]
        run, picks = pickflow_train_and_pick(
            config, out, micrographs, test_set, out / f"pickflow_{model}", args.threads
        )
        budget = f"{args.epochs} x {args.epoch_size} x " + (f"{minibatch} crops" if minibatch else "1 patch of 128 px")
        result["pickers"][f"pickflow {model}"] = {"train_wall_s": run.seconds, "budget": budget, **score(picks)}
    if not args.skip_topaz:
        sets = {s: link_set(pre, split[s], out / f"set_{s}") for s in ("train", "val")}
        # Topaz does not clip label coordinates: one that rounds to the image size crashes its mask code.
        last = min(meta["shape"]) - 1
        clipped = labels.assign(x_pre=labels["x_pre"].clip(0, last), y_pre=labels["y_pre"].clip(0, last))
        targets = {s: _topaz_targets(clipped, split[s], out / f"targets_{s}.txt") for s in ("train", "val")}
        run, _, best, topaz_picks = topaz_train_and_pick(
            args, sets, targets, test_set, out / "topaz" / "model", int(data["particles"]), radius_pre, seed
        )
        budget = f"{args.epochs} x {args.epoch_size} x {args.minibatch} crops"
        result["pickers"]["topaz resnet8"] = {
            "train_wall_s": run.seconds,
            "budget": budget,
            "best_epoch": best,
            **score(topaz_picks),
        }
    return result


def summarize_seeds(runs: list[dict]) -> dict:
    """Per picker: the mean (and each seed's value) of every score and of the training wall time."""
    table: dict = {}
    for picker in runs[0]["pickers"]:
        rows = [r["pickers"][picker] for r in runs]
        table[picker] = {"budget": rows[0]["budget"], "seeds": len(rows)}
        for key in (*SCORES, "train_wall_s"):
            values = [row[key] for row in rows]
            table[picker][key] = statistics.mean(values)
            table[picker][f"{key}_per_seed"] = values
    return table


def markdown(results: dict) -> str:
    return (
        "\n".join(
            [
                f"# Accuracy, pickflow (train.init: {results['settings']['init']}) vs Topaz ({results['date']}, "
                f"commit {results['commit']})",
                "",
                f"Means over seeds {results['settings']['seeds']} (split and training seed); held-out test micrographs only.",
                "",
                tables.accuracy(results),
                "Truth per data set: " + "; ".join(f"{n}: {d['truth']}" for n, d in results["datasets"].items()),
            ]
        )
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["demo", "easy", "hard"], choices=["demo", *SIMULATED])
    parser.add_argument("--models", nargs="+", default=["resnet8", "unet"], choices=["resnet8", "unet"])
    parser.add_argument("--micrographs", type=int, default=10, help="simulated micrographs per data set")
    parser.add_argument(
        "--image-size", type=int, default=None, help="simulated micrograph size (default: the preset's)"
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--epoch-size", type=int, default=40)
    parser.add_argument("--minibatch", type=int, default=64, help="crops per update (Topaz and pickflow resnet8)")
    parser.add_argument("--learning-rate", type=float, default=0.0002, help="pickflow's (Topaz's default: 0.0002)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--init",
        choices=["general", "scratch"],
        default="general",
        help="pickflow's train.init (general: the shipped general model at its scale, 24 px per particle diameter)",
    )
    parser.add_argument("--topaz-bin", default=str(topaz_cli.DEFAULT_TOPAZ_BIN))
    parser.add_argument("--skip-topaz", action="store_true")
    parser.add_argument("--work", default=str(WORK / "accuracy"))
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    work, out = Path(args.work).resolve(), Path(args.out).resolve()
    provenance = collect()
    results = {
        "date": provenance["date"],
        "commit": provenance["git_commit"],
        "provenance": provenance,
        "settings": vars(args),
        "datasets": {},
    }
    for name in args.datasets:
        runs = [run_dataset(work, name, args, seed) for seed in args.seeds]
        results["datasets"][name] = {"truth": runs[0]["truth"], "summary": summarize_seeds(runs), "runs": runs}
    out.mkdir(parents=True, exist_ok=True)
    (out / "accuracy.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "accuracy.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
