"""Accuracy, pickflow vs Topaz, on simulated data sets with complete ground truth.

For each data set (scripts/simulate.py presets: `easy`, `hard`) both pickers get the same preprocessed
micrographs (pickflow's, downsampled to ~8 Å/px), the same partial labels for training, the same split (train /
validation for epoch selection / test, the test micrographs never used by either picker before scoring), the
same model (resnet8, 32 units) and the same budget (updates x minibatch). Picks on the test micrographs are
scored by one scorer (pickflow.evaluation, one-to-one matching within the particle radius) against EVERY
simulated particle, so precision is not biased by partial labels. Reports AP, best F1 with its precision and
recall, and training wall time, as JSON and a markdown table.

    .venv/bin/python benchmarks/accuracy.py [--datasets easy hard] [--micrographs 10] [--epochs 3] [--skip-topaz]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import topaz_cli
from side_by_side import _link_set, _topaz_targets, pickflow_script, topaz_train_and_pick, write_config

from pickflow.coordinates import read_table
from pickflow.evaluation import summarize
from pickflow.provenance import collect
from pickflow.simulate import preset, write_dataset

REPO = Path(__file__).resolve().parents[1]
TARGET_PIXEL_SIZE = 8.0  # Å per pixel after downsampling (Topaz's advice for ~250 Å particles)


def simulate(work: Path, name: str, micrographs: int, seed: int) -> tuple[Path, dict]:
    folder = work / f"sim_{name}"
    if not (folder / "simulation.json").exists():
        write_dataset(preset(name, micrographs=micrographs, seed=seed), folder)
    return folder, json.loads((folder / "simulation.json").read_text())


def _names(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(micrograph=table["micrograph"].astype(str).str.replace(".mrc", "", regex=False))


def run_dataset(work: Path, name: str, args: argparse.Namespace) -> dict:
    folder, sim = simulate(work, name, args.micrographs, args.seed)
    config_sim = sim.get("config", sim)
    pixel, radius_a = float(config_sim["pixel_size"]), float(config_sim["particle_radius"])
    downsample = max(1, round(TARGET_PIXEL_SIZE / pixel))
    radius_pre = radius_a / (pixel * downsample)
    out = work / name
    pre = out / "preprocessed"
    pre.mkdir(parents=True, exist_ok=True)
    base = {
        "micrographs": {"path": str(folder / "micrographs/*.mrc"), "pixel_size": pixel},
        "particle_diameter": 2 * radius_a,
        "labels": {"coordinates": str(folder / "labels.csv")},
        "preprocess": {"downsample": downsample},
        "train": {"expected_particles": float(config_sim["particles_per_micrograph"])},
    }
    raws = sorted((folder / "micrographs").glob("*.mrc"))
    preprocess_config = write_config(out, base, {}, {})
    for raw in raws:
        if not (pre / f"{raw.stem}.mrc").exists():
            pickflow_script(
                "preprocess",
                raw,
                pre / f"{raw.stem}.mrc",
                pre / f"{raw.stem}.json",
                "--config",
                preprocess_config,
                threads=1,
                log=out / "logs" / f"preprocess_{raw.stem}.log",
            )
    labels = _names(pd.read_csv(folder / "labels.csv"))
    truth = _names(pd.read_csv(folder / "ground_truth.csv"))
    for table in (labels, truth):
        table["x_pre"], table["y_pre"] = table["x"] / downsample, table["y"] / downsample
    (out / "labels.csv").write_text(labels.to_csv(index=False))
    names = [r.stem for r in raws]
    order = np.random.default_rng(args.seed).permutation(names)
    n_test, n_val = max(1, round(0.3 * len(names))), max(1, round(0.2 * len(names)))
    split = {
        "test": sorted(order[:n_test]),
        "val": sorted(order[n_test : n_test + n_val]),
        "train": sorted(order[n_test + n_val :]),
    }
    budget = {"minibatch_size": args.minibatch, "epoch_size": args.epoch_size, "epochs": args.epochs}
    train_cfg = {
        **budget,
        "model": "resnet8",
        "units": 32,
        "learning_rate": 0.0002,
        "device": "cpu",
        "threads": args.threads,
    }
    config = write_config(out, base, train_cfg, {"device": "cpu", "threads": args.threads})
    (out / "split.json").write_text(json.dumps({"train": split["train"], "test": split["val"]}))
    test_set = _link_set(pre, split["test"], out / "set_test")
    held_truth = truth[truth["micrograph"].isin(split["test"])][["micrograph", "x_pre", "y_pre"]].rename(
        columns={"x_pre": "x", "y_pre": "y"}
    )

    def score(picks: pd.DataFrame) -> dict:
        stats, _ = summarize(
            picks[picks["micrograph"].isin(split["test"])].reset_index(drop=True), held_truth, radius_pre
        )
        keys = ("average_precision", "best_f1", "best_f1_precision", "best_f1_recall", "n_labels")
        return {k: stats[k] for k in keys}

    result: dict = {
        "downsample": downsample,
        "particle_radius_px": radius_pre,
        "split": split,
        "budget": budget,
        "labels_used": int(labels["micrograph"].isin(split["train"]).sum()),
        "particles_in_test": int(len(held_truth)),
    }
    run = pickflow_script(
        "train",
        "--config",
        config,
        "--labels",
        out / "labels.csv",
        "--split",
        out / "split.json",
        "--micrographs",
        *[pre / f"{n}.mrc" for n in split["train"] + split["val"]],
        "--outdir",
        out / "pickflow",
        threads=args.threads,
        log=out / "logs" / "train_pickflow.log",
    )
    candidates = out / "pickflow" / "test_candidates.csv"
    pickflow_script(
        "score",
        out / "pickflow" / "model.pt",
        candidates,
        "--config",
        config,
        "--micrographs",
        *sorted(test_set.glob("*.mrc")),
        threads=args.threads,
        log=out / "logs" / "score_pickflow.log",
    )
    picks = read_table(candidates)[["micrograph", "x_pre", "y_pre", "score"]].rename(
        columns={"x_pre": "x", "y_pre": "y"}
    )
    result["pickflow"] = {"train_wall_s": run.seconds, **score(picks)}
    if not args.skip_topaz:
        sets = {s: _link_set(pre, split[s], out / f"set_{s}") for s in ("train", "val")}
        # Topaz does not clip label coordinates: one that rounds to the image size crashes its mask code.
        last = int(config_sim["image_size"]) // downsample - 1
        clipped = labels.assign(x_pre=labels["x_pre"].clip(0, last), y_pre=labels["y_pre"].clip(0, last))
        targets = {s: _topaz_targets(clipped, split[s], out / f"targets_{s}.txt") for s in ("train", "val")}
        particles = int(config_sim["particles_per_micrograph"])
        run, _, best, topaz_picks = topaz_train_and_pick(
            args, sets, targets, test_set, out / "topaz" / "model", particles, radius_pre, args.seed
        )
        result["topaz"] = {"train_wall_s": run.seconds, "best_epoch": best, **score(topaz_picks)}
        result["train_wall_ratio_topaz_over_pickflow"] = run.seconds / result["pickflow"]["train_wall_s"]
    return result


def markdown(results: dict) -> str:
    lines = [
        f"# Accuracy on simulated data, pickflow vs Topaz ({results['date']}, commit {results['commit']})",
        "",
        "| data set | picker | AP | best F1 | precision | recall | training wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, data in results["datasets"].items():
        for picker in ("pickflow", "topaz"):
            if picker in data:
                r = data[picker]
                lines.append(
                    f"| {name} | {picker} | {r['average_precision']:.3f} | {r['best_f1']:.3f} | {r['best_f1_precision']:.3f} | "
                    f"{r['best_f1_recall']:.3f} | {r['train_wall_s']:.1f} |"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["easy", "hard"], choices=["easy", "hard"])
    parser.add_argument("--micrographs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--epoch-size", type=int, default=40)
    parser.add_argument("--minibatch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--topaz-bin", default=str(topaz_cli.DEFAULT_TOPAZ_BIN))
    parser.add_argument("--skip-topaz", action="store_true")
    parser.add_argument("--work", default=str(REPO / "benchmarks" / "work" / "accuracy"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    work, out = Path(args.work), Path(args.out)
    provenance = collect()
    results = {
        "date": provenance["date"],
        "commit": provenance["git_commit"],
        "provenance": provenance,
        "settings": vars(args),
        "datasets": {name: run_dataset(work, name, args) for name in args.datasets},
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "accuracy.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "accuracy.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
