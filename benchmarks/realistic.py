"""Accuracy on realistic data (issue 15): pickflow and Topaz side by side, at Topaz's training budget.

Data sets (``data``; simulated into benchmarks/work/realistic/, never committed):
- ``lowsnr``: 24 micrographs of 2048² at 1.1 Å/px, ribosome-like particles of 280 Å, low SNR (0.008), thick
  ice with a gradient, contamination, carbon edges, junk; 40% of the particles labeled (jittered by up to 15 px)
  on the 16 training micrographs; the 8 test micrographs are scored against every particle.
- ``lowsnr_hard``: the same with SNR 0.005 and 25% labels.
- ``lowsnr_4k``: lowsnr on a K3-sized field of view, 4096² at 0.83 Å/px, as crowded, with each particle's SNR.
- ``demo``: the bundled EMPIAR-10028 micrographs (10; 5 training, 2 validation, 3 test, by seed); the truth is
  the expert's partial labels, so precision is underestimated for every picker alike.

Methods (``run``), each at the same budget (epochs x updates x minibatch, learning rate):
- ``topaz_pretrained``: ``topaz train`` from its default pretrained start (resnet8_u32);
- ``topaz_scratch``: ``topaz train --no-pretrained``;
- ``topaz_general``: ``topaz extract -m resnet16`` (its pretrained general model), no training;
- ``pickflow_default``: pickflow's defaults (``train.init`` as the schema sets it: the general model);
- ``pickflow_scratch``: ``train.init: scratch``;
- ``pickflow_selftrain``: the defaults plus one self-training round (``train.self_training_rounds: 1``, its 5
  epochs on top of the budget: 1.5 times the updates);
- ``pickflow_nolabel``: no labels, no training: the shipped general model picks;
- ``pickflow_nolabel_sym8``: the same with ``pick.average_symmetries: true`` (the mean score map of the 8 views);
- ``pickflow_fulllabels``: the defaults trained on every particle of the labeled micrographs at its true position
  (simulated sets only): what complete, exact labels would give at this budget, a ceiling for the other rows.
The epoch is chosen on the validation micrographs (a part of the labeled training micrographs): Topaz by its
own test AUPRC, pickflow by its own held-out metric. Every candidate is scored (pickflow: all candidates of
``pickflow score``; Topaz: ``extract -t -10``), in full-size pixels, by one scorer (pickflow.picking.evaluation: one-to-one
matching within the particle radius). Each picker preprocesses as its users do: Topaz with ``topaz preprocess``
at its advised ~8 Å/px, pickflow at its general models' scale (24 px per particle diameter; the same for
``train.init: scratch``, so that only the start differs).

Each run writes one JSON into benchmarks/results/realistic/runs/ as soon as it ends (a rerun skips it);
``table`` writes summary.json and the tables between their markers in the READMEs (benchmarks.tables).

    nice .venv/bin/python -m benchmarks.realistic data lowsnr
    nice .venv/bin/python -m benchmarks.realistic run lowsnr --methods topaz_pretrained pickflow_scratch --seeds 0
    .venv/bin/python -m benchmarks.realistic table
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import tables, topaz_cli
from benchmarks.common import RESULTS as ALL_RESULTS
from benchmarks.common import WORK as ALL_WORK
from benchmarks.common import demo_dataset, machine
from benchmarks.side_by_side import link_set, pickflow_command, topaz_train
from pickflow.io.coordinates import read_table
from pickflow.io.micrographs import read_micrograph, write_mrc
from pickflow.models.general import PARTICLE_PIXELS, file_sha256, general_model_path, has_general_model
from pickflow.picking.evaluation import summarize
from pickflow.preprocess.image import preprocess_image
from pickflow.report.provenance import collect
from pickflow.simulate import SimulationConfig, write_dataset
from pickflow.workflow.config import load_config, preprocess_params
from tests.workflow.helpers import write_config

WORK = ALL_WORK / "realistic"
RESULTS = ALL_RESULTS / "realistic"
TOPAZ_PIXEL_SIZE = 8.0  # Å/px: Topaz's advice for particles of >= 300 Å (its quick start guide)
SCORES = ("average_precision", "best_f1", "best_f1_precision", "best_f1_recall", "max_recall")

# The realistic simulated sets. Parameters the general models' training distribution (the general branch's
# benchmarks/general_models.py draw_config) does not reach: 120 blobs per particle model (24-80), 750 Å ice
# (250-700), defocus up to 3.4 µm (0.8-3.0). The rest lies inside it (0.39 particles per diameter²: 0.08-0.6).
LOWSNR = {
    "image_size": 2048,
    "pixel_size": 1.1,
    "micrographs": 24,
    "particles_per_micrograph": 25,
    "particle_radius": 140.0,
    "particle_components": 120,
    "defocus_range": (1.2, 3.4),
    "snr": 0.008,  # per raw pixel; about 0.4 per pixel at Topaz's ~8 Å/px, as issue 15's low-SNR sets had there
    "ice_thickness": 750.0,
    "ice_gradient": 250.0,
    "ice_texture": 0.4,
    "contamination_count": 2.0,
    "carbon_probability": 0.5,
    "junk_per_micrograph": 15,
    "junk_radius_range": (0.3, 2.0),
    "aggregate_probability": 0.05,
    "label_fraction": 0.4,
    "label_jitter": 15.0,
    "seed": 20261201,
}
SIMULATED = {
    "lowsnr": LOWSNR,
    "lowsnr_hard": {**LOWSNR, "snr": 0.005, "label_fraction": 0.25, "seed": 20261202},
    # A K3-sized field of view: 4096² at 0.83 Å/px (2.28 times lowsnr's area), with particles, junk and contamination
    # as dense as in lowsnr, and the SNR per raw pixel scaled by the pixel area, (0.83 / 1.1)², so that each
    # particle's SNR is lowsnr's.
    "lowsnr_4k": {
        **LOWSNR,
        "image_size": 4096,
        "pixel_size": 0.83,
        "particles_per_micrograph": 57,
        "junk_per_micrograph": 34,
        "contamination_count": 4.5,
        "snr": 0.0046,
        "label_jitter": 20.0,
        "seed": 20261203,
    },
    # The same field of view at 384², for the smoke test only (its figures mean nothing).
    "smoke": {**LOWSNR, "image_size": 384, "pixel_size": 5.87, "label_jitter": 3.0, "seed": 1},
}
N_TRAIN, N_VAL = 16, 4  # simulated: micrographs 0-15 labeled (4 of them, by seed, for epoch selection), 16-23 test
METHODS = (
    "topaz_pretrained",
    "pickflow_default",
    "pickflow_scratch",
    "pickflow_selftrain",
    "topaz_general",
    "pickflow_nolabel",
    "pickflow_nolabel_sym8",
    "topaz_scratch",
    "pickflow_fulllabels",
)
NOLABEL = ("pickflow_nolabel", "pickflow_nolabel_sym8")  # the shipped general model picks
SEEDLESS = ("topaz_general", *NOLABEL)  # no training: one run, no seed
SYMMETRIES = ("pickflow_nolabel_sym8",)  # pick.average_symmetries: true


# ------------------------------------------------------------------------------------------------ data sets
def simulate(name: str, work: Path = WORK, processes: int = 1) -> Path:
    """Generate simulated set ``name`` (once) into WORK/NAME/raw."""
    folder = work / name / "raw"
    if not (folder / "simulation.json").exists():
        write_dataset(SimulationConfig.from_dict(dict(SIMULATED[name])), folder, processes)
    return folder


def dataset(name: str, work: Path = WORK) -> dict:
    """Raw micrographs, labels, truth, pixel size, particle radius and the fixed part of the split."""
    if name == "demo":
        return _demo(work)
    folder = simulate(name, work)
    cfg = json.loads((folder / "simulation.json").read_text())["config"]
    raw = sorted((folder / "micrographs").glob("*.mrc"))
    names = [r.stem for r in raw]
    return {
        "name": name,
        "raw": raw,
        "labels": pd.read_csv(folder / "labels.csv"),
        "truth": pd.read_csv(folder / "ground_truth.csv"),
        "truth_note": "every simulated particle",
        "pixel": float(cfg["pixel_size"]),
        "radius_a": float(cfg["particle_radius"]),
        "particles": float(cfg["particles_per_micrograph"]),
        "labeled": names[:N_TRAIN],
        "test": names[N_TRAIN:],
        "n_val": N_VAL,
        "simulation": cfg,
    }


def _demo(work: Path) -> dict:
    data = demo_dataset(work / "demo" / "raw")
    names = [r.stem for r in data["raw"]]
    return {"name": "demo", **data, "labeled": names[:7], "test": names[7:], "n_val": 2}


def split(data: dict, seed: int) -> dict:
    """train / val (epoch selection) among the labeled micrographs by ``seed``; test is fixed."""
    order = [str(n) for n in np.random.default_rng(seed).permutation(data["labeled"])]
    return {"train": sorted(order[data["n_val"] :]), "val": sorted(order[: data["n_val"]]), "test": data["test"]}


def preprocess_pickflow(data: dict, work: Path) -> Path:
    """pickflow's preprocessing at its general models' scale, once per data set."""
    out = work / data["name"] / "pickflow_pre"
    out.mkdir(parents=True, exist_ok=True)
    params = preprocess_params(load_config(write_config(out, base_config(data, out / "unused.csv"))))
    for raw in data["raw"]:
        if not (out / f"{raw.stem}.json").exists():
            image, meta = preprocess_image(read_micrograph(raw), raw.stem, params)
            write_mrc(out / f"{raw.stem}.mrc", image, meta["pixel_size"])
            (out / f"{raw.stem}.json").write_text(json.dumps(meta, default=float))
    return out


def base_config(data: dict, labels: Path) -> dict:
    """The settings a user gives: micrographs, pixel size, diameter, labels, expected particles; and the scale."""
    diameter = 2 * data["radius_a"]
    return {
        "micrographs": {"path": str(data["raw"][0].parent / "*.mrc"), "pixel_size": data["pixel"]},
        "particle_diameter": diameter,
        "labels": {"coordinates": str(labels)},
        "preprocess": {"particle_pixels": PARTICLE_PIXELS},
        "train": {"expected_particles": data["particles"]},
    }


def topaz_scale(data: dict) -> int:
    """Topaz's integer downsampling factor to its advised ~8 Å/px."""
    return max(1, round(TOPAZ_PIXEL_SIZE / data["pixel"]))


def preprocess_topaz(data: dict, work: Path, topaz_bin: str) -> Path:
    """``topaz preprocess -s S`` of every micrograph, once per data set."""
    out = work / data["name"] / "topaz_pre"
    if not all((out / f"{r.stem}.mrc").exists() for r in data["raw"]):
        topaz_cli.preprocess(topaz_bin, data["raw"], out, scale=topaz_scale(data), threads=1)
    return out


# ------------------------------------------------------------------------------------------------ pickers
def budget(args: argparse.Namespace, family: str) -> dict:
    minibatch = args.minibatch if family == "resnet8" else None  # None: the unet's default (1 patch)
    return {
        "epochs": args.epochs,
        "epoch_size": args.epoch_size,
        "minibatch_size": minibatch,
        "learning_rate": args.learning_rate,
    }


def run_pickflow(data: dict, parts: dict, method: str, family: str, seed: int, args: argparse.Namespace) -> dict:
    """Train (unless no-label) and score the test micrographs; picks in full-size px."""
    work = Path(args.work)
    pre = preprocess_pickflow(data, work)
    out = work / data["name"] / f"{method}_{family}_seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    labels = data["labels"][data["labels"]["micrograph"].isin(parts["train"] + parts["val"])].copy()
    scale = json.loads((pre / f"{parts['test'][0]}.json").read_text())["scale"]
    labels["x_pre"], labels["y_pre"] = labels["x"] / scale[1], labels["y"] / scale[0]
    labels.to_csv(out / "labels.csv", index=False)
    (out / "split.json").write_text(json.dumps({"train": parts["train"], "test": parts["val"]}))
    config = base_config(data, out / "labels.csv")
    train = {**budget(args, family), "model": family, "seed": seed, "device": "cpu", "threads": args.threads}
    if method == "pickflow_scratch":
        train["init"] = "scratch"
    if method == "pickflow_selftrain":
        train["self_training_rounds"] = 1
    config["train"].update({k: v for k, v in train.items() if v is not None})
    # NMS down to the candidate threshold for every family (what pick.method auto does; blobs at logit 0 cap recall).
    config["pick"] = {"method": "nms", "device": "cpu", "threads": args.threads}
    config["pick"]["average_symmetries"] = method in SYMMETRIES
    config_path = write_config(out, config)
    result: dict = {"train_wall_s": None, "budget": budget(args, family)}
    result["average_symmetries"] = config["pick"]["average_symmetries"]
    if method in NOLABEL:
        model = general_model_path(family)
        result.update(budget=None, init={"init": "general", "path": str(model), "sha256": file_sha256(model)})
    else:
        run = pickflow_command(
            "train",
            *[pre / f"{n}.mrc" for n in parts["train"] + parts["val"]],
            "--config",
            config_path,
            "--labels",
            out / "labels.csv",
            "--split",
            out / "split.json",
            "--outdir",
            out / "model",
            threads=args.threads,
            log=out / "train.log",
        )
        model = out / "model" / "model.pt"
        result["train_wall_s"] = run.seconds
        summary = json.loads((out / "model" / "summary.json").read_text())
        result["best_epoch"] = summary.get("best_epoch")
        result["init"] = summary.get("init")
    test_set = link_set(pre, parts["test"], out / "test", (".mrc", ".json"))
    started = time.perf_counter()
    pickflow_command(
        "score",
        model,
        *sorted(test_set.glob("*.mrc")),
        "--output",
        out / "candidates.csv",
        "--config",
        config_path,
        threads=args.threads,
        log=out / "score.log",
    )
    result["pick_wall_s"] = time.perf_counter() - started
    result["model"] = str(model)
    result["picks"] = read_table(out / "candidates.csv")[["micrograph", "x", "y", "score"]]
    return result


def topaz_family(method: str) -> str:
    """Topaz's model: resnet8 (32 units) when trained, its pretrained resnet16 general model otherwise."""
    return "resnet16" if method == "topaz_general" else "resnet8"


def run_topaz(data: dict, parts: dict, method: str, seed: int, args: argparse.Namespace) -> dict:
    """Topaz: train (pretrained start or scratch) and extract with the best validation epoch, or extract with its
    general model; picks in full-size px."""
    work = Path(args.work)
    pre = preprocess_topaz(data, work, args.topaz_bin)
    factor = topaz_scale(data)
    out = work / data["name"] / f"{method}_{topaz_family(method)}_seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    radius = max(1, round(data["radius_a"] / (data["pixel"] * factor)))
    test_set = link_set(pre, parts["test"], out / "test", (".mrc",))
    result: dict = {"train_wall_s": None, "budget": None}
    if method == "topaz_general":
        model: str | Path = "resnet16"  # the name of its pretrained general model (topaz extract's default)
    else:
        last = min(read_micrograph(pre / f"{parts['test'][0]}.mrc").shape) - 1
        targets = {}
        for part in ("train", "val"):
            rows = data["labels"][data["labels"]["micrograph"].isin(parts[part])]
            table = pd.DataFrame(
                {
                    "image_name": rows["micrograph"],
                    "x_coord": (rows["x"] / factor).round().clip(0, last).astype(int),
                    "y_coord": (rows["y"] / factor).round().clip(0, last).astype(int),
                }
            )
            targets[part] = out / f"targets_{part}.txt"
            table.to_csv(targets[part], sep="\t", index=False)
        sets = {p: link_set(pre, parts[p], out / p, (".mrc",)) for p in ("train", "val")}
        run, _, best = topaz_train(
            args,
            sets,
            targets,
            out / "model" / "model",
            int(data["particles"]),
            seed,
            learning_rate=args.learning_rate,
            pretrained=method == "topaz_pretrained",
        )
        model = topaz_cli.model_path(out / "model" / "model", best, args.epochs)
        result.update(
            train_wall_s=run.seconds,
            best_epoch=best,
            budget={**budget(args, "resnet8"), "minibatch_size": args.minibatch},
        )
    picks_file = out / "picks.txt"
    run = topaz_cli.extract(
        args.topaz_bin, model, sorted(test_set.glob("*.mrc")), picks_file, radius, threshold=-10, threads=args.threads
    )
    picks = pd.read_csv(picks_file, sep="\t", dtype={"image_name": str})
    result["pick_wall_s"] = run.seconds
    result["model"] = str(model)
    result["picks"] = pd.DataFrame(
        {
            "micrograph": picks["image_name"],
            "x": picks["x_coord"] * factor,
            "y": picks["y_coord"] * factor,
            "score": picks["score"],
        }
    )
    return result


def score(data: dict, parts: dict, picks: pd.DataFrame) -> dict:
    """AP, best F1 and its precision and recall on the test micrographs, in full-size px, against the truth."""
    truth = data["truth"][data["truth"]["micrograph"].isin(parts["test"])][["micrograph", "x", "y"]]
    kept = picks[picks["micrograph"].astype(str).isin(parts["test"])].reset_index(drop=True)
    stats, curve = summarize(kept, truth.reset_index(drop=True), data["radius_a"] / data["pixel"])
    stats["max_recall"] = float(curve["recall"].max()) if len(curve) else 0.0  # the recall all candidates reach
    return {**{k: float(stats[k]) for k in SCORES}, "candidates": len(kept), "particles": len(truth)}


def run_one(name: str, method: str, family: str, seed: int | None, args: argparse.Namespace) -> Path:
    """One (data set, method, family, seed): its JSON under RESULTS/runs/, skipped when it exists."""
    path = Path(args.out) / "runs" / f"{name}__{method}__{family}__seed{'-' if seed is None else seed}.json"
    if path.exists() and not args.force:
        print(f"skip {path.name} (exists)", flush=True)
        return path
    if method in ("pickflow_default", *NOLABEL) and not has_general_model(family):
        print(f"skip {path.name}: no general {family} model ships yet (pickflow/general/)", flush=True)
        return path
    data = dataset(name, Path(args.work))
    if method == "pickflow_fulllabels":
        if name == "demo":
            print(f"skip {path.name}: the demo's truth is its partial labels", flush=True)
            return path
        data["labels"] = data["truth"][["micrograph", "x", "y"]]
    parts = split(data, seed or 0)
    print(f"{time.strftime('%H:%M:%S')} {name} {method} {family} seed {seed}", flush=True)
    if method.startswith("topaz"):
        outcome = run_topaz(data, parts, method, seed or 0, args)
    else:
        outcome = run_pickflow(data, parts, method, family, seed or 0, args)
    picks = outcome.pop("picks")
    provenance = collect()
    record = {
        "dataset": name,
        "method": method,
        "family": family,
        "seed": seed,
        "commit": provenance["git_commit"],
        "date": provenance["date"],
        "machine": machine(),
        "threads": args.threads,
        "truth": data["truth_note"],
        "split": parts,
        "labels_used": 0
        if method in SEEDLESS
        else int(data["labels"]["micrograph"].isin(parts["train"] + parts["val"]).sum()),
        **outcome,
        **score(data, parts, picks),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str))
    tmp.rename(path)
    print(f"  AP {record['average_precision']:.3f}, best F1 {record['best_f1']:.3f} -> {path}", flush=True)
    return path


# ------------------------------------------------------------------------------------------------ summary
def summary(runs_dir: Path) -> dict:
    """Per (data set, method, family): mean, spread (max - min) and per-seed AP, best F1, wall times."""
    records = [json.loads(p.read_text()) for p in sorted(runs_dir.glob("*.json"))]
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["dataset"], r["method"], r["family"]), []).append(r)
    rows = []
    for (name, method, family), runs in sorted(groups.items(), key=lambda kv: _order(kv[0])):
        runs.sort(key=lambda r: -1 if r["seed"] is None else r["seed"])
        ap = [r["average_precision"] for r in runs]
        rows.append(
            {
                "dataset": name,
                "method": method,
                "family": family,
                "seeds": [r["seed"] for r in runs],
                "average_precision": statistics.mean(ap),
                "average_precision_per_seed": ap,
                "average_precision_spread": max(ap) - min(ap),
                "best_f1": statistics.mean(r["best_f1"] for r in runs),
                "best_f1_per_seed": [r["best_f1"] for r in runs],
                "max_recall": statistics.mean(r["max_recall"] for r in runs),
                "train_wall_s": _mean([r["train_wall_s"] for r in runs]),
                "pick_wall_s": _mean([r["pick_wall_s"] for r in runs]),
                "budget": runs[0]["budget"],
                "truth": runs[0]["truth"],
                "commits": sorted({r["commit"] for r in runs}),
                "dates": [r["date"] for r in runs],
                "machine": runs[0]["machine"],
            }
        )
    return {"rows": rows, "runs": len(records), "targets": targets(rows)}


def targets(rows: list[dict]) -> list[dict]:
    """Issue 15's targets per data set and pickflow family, from the rows present (means over seeds)."""
    found = {(r["dataset"], r["method"], r["family"]): r for r in rows}
    checks = []
    for (name, method, family), row in found.items():
        if method == "pickflow_default" and (name, "topaz_pretrained", "resnet8") in found:
            topaz = found[(name, "topaz_pretrained", "resnet8")]
            margin = row["average_precision"] - topaz["average_precision"]
            checks.append(
                _check(
                    name,
                    family,
                    "default AP - Topaz pretrained-start AP >= 0.05 (means of the seeds present)",
                    margin,
                    margin >= 0.05,
                )
            )
            ratio = row["train_wall_s"] / topaz["train_wall_s"]
            checks.append(
                _check(
                    name,
                    family,
                    "training wall time / Topaz's <= 1 (runs under different load: indicative only)",
                    ratio,
                    ratio <= 1,
                )
            )
        if method == "pickflow_nolabel" and (name, "topaz_general", "resnet16") in found:
            margin = row["average_precision"] - found[(name, "topaz_general", "resnet16")]["average_precision"]
            checks.append(_check(name, family, "no-label AP - Topaz general-model AP >= 0", margin, margin >= 0))
        if method == "pickflow_default" and len(row["seeds"]) >= 3:
            spread = row["average_precision_spread"]
            checks.append(_check(name, family, "AP spread over seeds <= 0.05", spread, spread <= 0.05))
    return checks


def _check(dataset: str, family: str, target: str, value: float, met: bool) -> dict:
    return {"dataset": dataset, "family": family, "target": target, "value": value, "met": met}


def _order(key: tuple) -> tuple:
    name, method, family = key
    sets = ["lowsnr", "lowsnr_hard", "lowsnr_4k", "demo"]
    return (sets.index(name) if name in sets else 99, METHODS.index(method), family)


def _mean(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.mean(present) if present else None


def write_table(out: Path, readmes: list[Path]) -> dict:
    """summary.json under ``out`` and the realistic tables between their markers in ``readmes``."""
    table = summary(out / "runs")
    provenance = collect()
    table = {"written": provenance["date"], "commit": provenance["git_commit"], **table}
    (out / "summary.json").write_text(json.dumps(table, indent=2))
    for readme in readmes:
        tables.update(readme, {"realistic": tables.realistic(table), "realistic-lowsnr": tables.realistic_short(table)})
    return table


# ------------------------------------------------------------------------------------------------ command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="generate simulated data sets")
    data.add_argument("datasets", nargs="+", choices=list(SIMULATED))
    data.add_argument("--work", default=str(WORK))
    data.add_argument("--processes", type=int, default=4, help="simulate in this many processes (1 thread each)")
    run = sub.add_parser("run", help="run methods on a data set (one JSON per run)")
    run.add_argument("dataset", choices=[*SIMULATED, "demo"])
    run.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    run.add_argument("--families", nargs="+", default=["resnet8"], choices=["resnet8", "unet"])
    run.add_argument("--seeds", type=int, nargs="+", default=[0])
    run.add_argument("--epochs", type=int, default=10)
    run.add_argument("--epoch-size", type=int, default=100)
    run.add_argument("--minibatch", type=int, default=256, help="crops per update (Topaz, pickflow resnet8)")
    run.add_argument("--learning-rate", type=float, default=0.0002)
    run.add_argument("--threads", type=int, default=1)
    run.add_argument("--topaz-bin", default=str(topaz_cli.DEFAULT_TOPAZ_BIN))
    run.add_argument("--work", default=str(WORK))
    run.add_argument("--out", default=str(RESULTS))
    run.add_argument("--force", action="store_true", help="rerun runs whose JSON exists")
    table = sub.add_parser("table", help="summary.json and the README tables from the run JSONs")
    table.add_argument("--out", default=str(RESULTS))
    table.add_argument("--readme", nargs="+", type=Path, default=list(tables.READMES), help="the READMEs to rewrite")
    args = parser.parse_args(argv)
    if args.command == "data":
        for name in args.datasets:
            simulate(name, Path(args.work), args.processes)
    elif args.command == "run":
        for seed in args.seeds:
            for method in args.methods:
                for family in args.families if method.startswith("pickflow") else [topaz_family(method)]:
                    if method in SEEDLESS and seed != args.seeds[0]:
                        continue
                    run_one(args.dataset, method, family, None if method in SEEDLESS else seed, args)
    else:
        print(tables.realistic(write_table(Path(args.out), args.readme)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
