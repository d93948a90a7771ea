"""pickflow vs Topaz, side by side on the bundled EMPIAR-10028 demo: preprocessing, training, extraction.

Both pickers get the same micrographs (pickflow's preprocessed MRCs for training and extraction, so only the
stage measured differs), the same labels, the same split (train / validation for epoch selection / test,
never used by either picker before scoring), the same model (resnet8, 32 units) and the same training budget
(updates x minibatch). Each stage runs pickflow and Topaz interleaved, `--repeats` times; medians are reported.
Held-out particles are scored for both by one scorer (pickflow.picking.evaluation: one-to-one matching within the
particle radius). Results: JSON and a markdown table under --out.

    python -m benchmarks.side_by_side                     # full run (install Topaz first: benchmarks/topaz_setup.sh)
    python -m benchmarks.side_by_side --smoke --skip-topaz   # seconds-long check of the pickflow side
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from benchmarks import tables, topaz_cli
from benchmarks.common import DEMO_PIXEL_SIZE, RESULTS, WORK, demo_labels, demo_raw, machine
from benchmarks.measure import Run, run_measured
from pickflow.io.coordinates import read_table
from pickflow.picking.evaluation import summarize
from pickflow.report.provenance import collect
from tests.workflow import helpers
from tests.workflow.helpers import REPO

PIXEL_SIZE, DOWNSAMPLE, DIAMETER = DEMO_PIXEL_SIZE, 2, 300.0
RADIUS_PRE = DIAMETER / 2 / (PIXEL_SIZE * DOWNSAMPLE)  # particle radius in preprocessed pixels (~14)


def thread_env(threads: int) -> dict[str, str]:
    env = topaz_cli.thread_env(threads)
    env["PYTHONPATH"] = str(REPO)
    return env


def pickflow_command(*args: object, threads: int, log: Path) -> Run:
    """Run ``pickflow SUBCOMMAND ARGS`` (this checkout's package)."""
    return run_measured([sys.executable, "-m", "pickflow", *args], thread_env(threads), log)


def prepare(work: Path, n_micrographs: int) -> dict:
    """Raw MRCs from the demo PNGs, pickflow-preprocessed MRCs, labels and the three-way split."""
    names = [raw.stem for raw in demo_raw(work / "raw", n_micrographs)]
    labels = demo_labels()
    labels = labels[labels["micrograph"].isin(names)].copy()
    labels["x_pre"], labels["y_pre"] = labels["x"] / DOWNSAMPLE, labels["y"] / DOWNSAMPLE
    (work / "labels.csv").write_text(labels.to_csv(index=False))
    order = np.random.default_rng(0).permutation(names)
    n_test = max(1, round(0.3 * len(names)))
    n_val = max(1, round(0.2 * len(names)))
    split = {
        "test": sorted(order[:n_test]),
        "val": sorted(order[n_test : n_test + n_val]),
        "train": sorted(order[n_test + n_val :]),
    }
    config = {
        "micrographs": {"path": "raw/*.mrc", "pixel_size": PIXEL_SIZE},
        "particle_diameter": DIAMETER,
        "labels": {"coordinates": "labels.csv"},
        "preprocess": {"downsample": DOWNSAMPLE},
        "train": {"expected_particles": 150, "init": "scratch"},  # the same random start as Topaz --no-pretrained
    }
    return {"names": names, "labels": labels, "split": split, "config": config}


def write_config(work: Path, base: dict, train: dict, pick: dict, name: str = "pickflow_config.yaml") -> Path:
    """``base`` with ``train`` settings added and these ``pick`` settings, as ``work/name``."""
    return helpers.write_config(work, helpers.merge(base, {"train": train, "pick": pick}), name)


# ----------------------------------------------------------------------------------------- stages
LOOP = """
import sys
from pickflow.workflow.config import load_config, preprocess_params
from pickflow.preprocess.preprocessed import write_preprocessed
params = preprocess_params(load_config(sys.argv[1]))
out = sys.argv[2]
for raw in sys.argv[3:]:
    name = raw.rsplit("/", 1)[-1][:-4]
    write_preprocessed(raw, f"{out}/{name}.json", params)
"""


def bench_preprocess(work: Path, data: dict, args: argparse.Namespace) -> dict:
    """Per-micrograph cost, measured the same way for both: (t(all) - t(1)) / (n - 1) for one process that
    preprocesses a list (start-up removed), and also pickflow's workflow cost, one process per micrograph."""
    raws = sorted((work / "raw").glob("*.mrc"))
    config = write_config(work, data["config"], {}, {})
    per_job, pick_all, pick_one, topaz_all, topaz_one = [], [], [], [], []
    for repeat in range(args.repeats):
        out = work / f"pre_pickflow_{repeat}"
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        for raw in raws:
            pickflow_command(
                "preprocess",
                raw,
                "--outdir",
                out,
                "--config",
                config,
                threads=1,
                log=work / "logs" / f"preprocess_{raw.stem}.log",
            )
        per_job.append((time.perf_counter() - t0) / len(raws))
        loop = [sys.executable, "-c", LOOP, config, work / f"pre_loop_{repeat}"]
        (work / f"pre_loop_{repeat}").mkdir(exist_ok=True)
        pick_all.append(run_measured([*loop, *raws], thread_env(1), work / "logs" / "preprocess_loop.log").seconds)
        pick_one.append(run_measured([*loop, *raws[:1]], thread_env(1), work / "logs" / "preprocess_loop1.log").seconds)
        if not args.skip_topaz:
            topaz_all.append(
                topaz_cli.preprocess(args.topaz_bin, raws, work / f"pre_topaz_{repeat}", DOWNSAMPLE, threads=1).seconds
            )
            topaz_one.append(
                topaz_cli.preprocess(
                    args.topaz_bin, raws[:1], work / f"pre_topaz1_{repeat}", DOWNSAMPLE, threads=1
                ).seconds
            )
    n = len(raws)

    def marginal(all_s: list[float], one_s: list[float]) -> float:
        return (statistics.median(all_s) - statistics.median(one_s)) / max(n - 1, 1)

    result = {
        "pickflow_s_per_micrograph_marginal": marginal(pick_all, pick_one),
        "pickflow_s_per_micrograph_one_job_each": statistics.median(per_job),
    }
    if topaz_all:
        result["topaz_s_per_micrograph_marginal"] = marginal(topaz_all, topaz_one)
        result["topaz_s_per_micrograph_incl_process_start"] = statistics.median(topaz_all) / n
    return result


def _topaz_targets(labels: pd.DataFrame, names: list[str], path: Path) -> Path:
    rows = labels[labels["micrograph"].isin(names)]
    table = pd.DataFrame(
        {
            "image_name": rows["micrograph"],
            "x_coord": rows["x_pre"].round().astype(int),
            "y_coord": rows["y_pre"].round().astype(int),
        }
    )
    table.to_csv(path, sep="\t", index=False)
    return path


def link_set(pre: Path, names: list[str], target: Path, suffixes: tuple[str, ...] = (".mrc", ".json")) -> Path:
    """A folder of links to the named preprocessed micrographs: a picker's input set."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        for suffix in suffixes:  # pickflow reads the preprocessing JSON beside each MRC; Topaz globs *.mrc
            link = target / f"{name}{suffix}"
            if not link.exists():
                link.symlink_to(pre / f"{name}{suffix}")
    return target


def _held_out_ap(picks: pd.DataFrame, labels: pd.DataFrame, test: list[str]) -> dict:
    truth = labels[labels["micrograph"].isin(test)][["micrograph", "x_pre", "y_pre"]].rename(
        columns={"x_pre": "x", "y_pre": "y"}
    )
    stats, _ = summarize(picks[picks["micrograph"].isin(test)].reset_index(drop=True), truth, RADIUS_PRE)
    return {k: stats[k] for k in ("average_precision", "best_f1", "best_f1_precision", "best_f1_recall", "n_picks")}


def bench_train(work: Path, data: dict, args: argparse.Namespace) -> dict:
    pre = work / "pre_pickflow_0"
    split, labels = data["split"], data["labels"]
    budget = {"minibatch_size": args.minibatch, "epoch_size": args.epoch_size, "epochs": args.epochs}
    train_cfg = {
        **budget,
        "model": "resnet8",
        "units": 32,
        "expected_particles": 150,
        "learning_rate": 0.0002,
        "device": "cpu",
        "threads": args.threads,
        "eval_stride": 1,
    }
    # "pickflow" runs with --precision/--compile; "pickflow_fp32" (plain fp32, eager) is the reference for both.
    variants = {"pickflow": {"precision": args.precision, "compile": args.compile}}
    if args.precision != "fp32" or args.compile:
        variants["pickflow_fp32"] = {"precision": "fp32", "compile": False}
    pick = {"stride": 1, "device": "cpu", "threads": args.threads}
    configs = {
        v: write_config(work, data["config"], {**train_cfg, **o}, pick, f"{v}.yaml") for v, o in variants.items()
    }
    (work / "split.json").write_text(json.dumps({"train": split["train"], "test": split["val"]}))
    sets = {s: link_set(pre, split[s], work / f"set_{s}") for s in ("train", "val", "test")}
    targets = {s: _topaz_targets(labels, split[s], work / f"targets_{s}.txt") for s in ("train", "val")}
    runs: dict[str, list[dict]] = {**{v: [] for v in variants}, "topaz": []}
    for repeat, variant in ((r, v) for r in range(args.repeats) for v in [*variants, "topaz"]):
        if variant == "topaz":
            if not args.skip_topaz:
                runs["topaz"].append(_topaz_train_run(work, args, sets, targets, labels, split, repeat))
            continue
        out = work / f"train_{variant}_{repeat}"
        micrographs = [pre / f"{n}.mrc" for n in split["train"] + split["val"]]
        run, picks = pickflow_train_and_pick(configs[variant], work, micrographs, sets["test"], out, args.threads)
        metrics = pd.read_csv(out / "metrics.csv")
        epoch_seconds = metrics.groupby("epoch")["train_seconds"].first()
        runs[variant].append(
            {
                "wall_s": run.seconds,
                "peak_mb": run.peak_mb,
                "s_per_update": float(epoch_seconds.sum()) / (args.epochs * args.epoch_size),
                # after the first epoch, which includes torch.compile's compilation when --compile is on
                "s_per_update_after_epoch_1": float(epoch_seconds.iloc[1:].mean()) / args.epoch_size
                if len(epoch_seconds) > 1
                else float("nan"),
                "s_per_epoch_evaluation": float(metrics[metrics["split"] == "test"]["eval_seconds"].mean()),
                "best_epoch": int(json.loads((out / "summary.json").read_text())["best_epoch"]),
                **_held_out_ap(picks, labels, split["test"]),
            }
        )
    return {"budget": budget, "split": split, "runs": runs, "median": {k: _medians(v) for k, v in runs.items() if v}}


def pickflow_train_and_pick(
    config: Path, work: Path, train_micrographs: list[Path], test_dir: Path, outdir: Path, threads: int
) -> tuple[Run, pd.DataFrame]:
    """Train pickflow (labels.csv and split.json in ``work``; split "test" = its validation set) and score the
    test micrographs with the kept model. Returns the training run and the candidates (micrograph, x, y, score;
    preprocessed pixels)."""
    logs, tag = work / "logs", outdir.name
    common = ("--config", config)
    run = pickflow_command(
        "train",
        *train_micrographs,
        *common,
        "--labels",
        work / "labels.csv",
        "--split",
        work / "split.json",
        "--outdir",
        outdir,
        threads=threads,
        log=logs / f"{tag}.log",
    )
    candidates = outdir / "test_candidates.csv"
    micrographs = sorted(test_dir.glob("*.mrc"))
    pickflow_command(
        "score",
        outdir / "model.pt",
        *micrographs,
        "--output",
        candidates,
        *common,
        threads=threads,
        log=logs / f"score_{tag}.log",
    )
    picks = read_table(candidates)[["micrograph", "x_pre", "y_pre", "score"]]
    return run, picks.rename(columns={"x_pre": "x", "y_pre": "y"})


def _topaz_train_run(
    work: Path, args: argparse.Namespace, sets: dict, targets: dict, labels: pd.DataFrame, split: dict, repeat: int
) -> dict:
    prefix = work / f"train_topaz_{repeat}" / "model"
    run, tsv, best, picks = topaz_train_and_pick(args, sets, targets, sets["test"], prefix, 150, RADIUS_PRE, repeat)
    return {
        "wall_s": run.seconds,
        "peak_mb": run.peak_mb,
        "best_epoch": best,
        **_topaz_curve(tsv, args),
        "tsv": str(tsv),
        **_held_out_ap(picks, labels, split["test"]),
    }


def topaz_train_and_pick(
    args: argparse.Namespace,
    sets: dict,
    targets: dict,
    test_dir: Path,
    prefix: Path,
    num_particles: int,
    radius_px: float,
    seed: int,
) -> tuple[Run, Path, int, pd.DataFrame]:
    """Train Topaz (resnet8, 32 units, the run's budget) on sets/targets "train" with "val" as its test set, take
    the epoch with the best validation AUPRC (Topaz's own metric) and extract picks on the test micrographs.
    Returns the training run, its TSV, that epoch and the picks (micrograph, x, y, score; preprocessed pixels)."""
    run, tsv, best = topaz_train(args, sets, targets, prefix, num_particles, seed)
    picks_file = prefix.parent / "test_picks.txt"
    topaz_cli.extract(
        args.topaz_bin,
        topaz_cli.model_path(prefix, best, args.epochs),
        sorted(test_dir.glob("*.mrc")),
        picks_file,
        radius=max(1, int(round(radius_px))),
        threshold=-6,
        threads=args.threads,
    )
    picks = pd.read_csv(picks_file, sep="\t", dtype={"image_name": str})
    return run, tsv, best, picks.rename(columns={"image_name": "micrograph", "x_coord": "x", "y_coord": "y"})


def topaz_train(
    args: argparse.Namespace, sets: dict, targets: dict, prefix: Path, num_particles: int, seed: int, **options: Any
) -> tuple[Run, Path, int]:
    """``topaz train`` of resnet8 (32 units) at the run's budget (``args``) on sets/targets "train", with "val" as
    its test set; ``options`` go to ``topaz_cli.train``. The run, its TSV and the epoch of the best validation
    AUPRC (Topaz's own metric)."""
    run, tsv = topaz_cli.train(
        args.topaz_bin,
        sets["train"],
        targets["train"],
        sets["val"],
        targets["val"],
        prefix,
        model="resnet8",
        units=32,
        minibatch=args.minibatch,
        epoch_size=args.epoch_size,
        epochs=args.epochs,
        num_particles=num_particles,
        radius=3,
        seed=seed,
        threads=args.threads,
        **options,
    )
    return run, tsv, topaz_cli.best_epoch(tsv)


def _topaz_curve(tsv: Path, args: argparse.Namespace) -> dict:
    """Update and evaluation time from the moments Topaz wrote its TSV rows."""
    table = pd.read_csv(tsv, sep="\t", na_values="-")
    times = [float(t) for t in Path(f"{tsv}.times").read_text().split()]
    table["t"] = times[1 : len(table) + 1] if len(times) > len(table) else times[: len(table)]
    test = table[table["split"] == "test"]
    train_rows = table[table["split"] == "train"]
    eval_s, update_s = [], []
    for epoch, row in test.set_index("epoch").iterrows():
        last_update = train_rows[train_rows["epoch"] == epoch]["t"].max()
        first_update = train_rows[train_rows["epoch"] == epoch]["t"].min()
        eval_s.append(row["t"] - last_update)
        update_s.append((last_update - first_update) / max(args.epoch_size - 1, 1))
    return {"s_per_update": statistics.median(update_s), "s_per_epoch_evaluation": statistics.median(eval_s)}


def bench_extract(work: Path, data: dict, args: argparse.Namespace, topaz_epoch: int | None) -> dict:
    """Scoring + extraction of all micrographs with each picker's trained model; per-micrograph marginal cost
    (t(all) - t(1)) / (n - 1) removes both programs' start-up time."""
    pre = work / "pre_pickflow_0"
    mics = sorted(pre.glob("*.mrc"))
    pick_model = work / "train_pickflow_0" / "model.pt"
    result: dict[str, dict] = {}
    variants = [("pickflow_stride1", 1), ("pickflow_stride2", 2)]
    timings: dict[str, list[tuple[float, ...]]] = {name: [] for name, _ in variants}
    timings["topaz"] = []
    for _repeat in range(args.repeats):
        for name, stride in variants:
            config = write_config(
                work, data["config"], {}, {"stride": stride, "device": "cpu", "threads": args.threads}
            )
            pair = []
            for subset in (mics, mics[:1]):
                run = pickflow_command(
                    "score",
                    pick_model,
                    *subset,
                    "--output",
                    work / f"extract_{name}_{len(subset)}.csv",
                    "--config",
                    config,
                    threads=args.threads,
                    log=work / "logs" / f"extract_{name}.log",
                )
                pair.append(run.seconds)
            timings[name].append(tuple(pair))
        if not args.skip_topaz:
            best = cast(int, topaz_epoch)  # its best epoch: Topaz was trained
            model = topaz_cli.model_path(work / "train_topaz_0" / "model", best, args.epochs)
            pair = [
                topaz_cli.extract(
                    args.topaz_bin,
                    model,
                    subset,
                    work / f"extract_topaz_{len(subset)}.txt",
                    radius=int(round(RADIUS_PRE)),
                    threshold=-6,
                    threads=args.threads,
                ).seconds
                for subset in (mics, mics[:1])
            ]
            timings["topaz"].append(tuple(pair))
    n = len(mics)
    test = data["split"]["test"]
    held_out = {
        name: _held_out_ap(
            read_table(work / f"extract_{name}_{n}.csv")
            .drop(columns=["x", "y"])
            .rename(columns={"x_pre": "x", "y_pre": "y"}),
            data["labels"],
            test,
        )
        for name, _ in variants
    }
    if timings["topaz"]:
        topaz_picks = pd.read_csv(work / f"extract_topaz_{n}.txt", sep="\t", dtype={"image_name": str})
        held_out["topaz"] = _held_out_ap(
            topaz_picks.rename(columns={"image_name": "micrograph", "x_coord": "x", "y_coord": "y"}),
            data["labels"],
            test,
        )
    for name, pairs in timings.items():
        if pairs:
            all_s = statistics.median(p[0] for p in pairs)
            one_s = statistics.median(p[1] for p in pairs)
            result[name] = {
                "held_out": held_out[name],
                "s_all": all_s,
                "s_one": one_s,
                "s_per_micrograph_marginal": (all_s - one_s) / max(n - 1, 1),
                "s_per_micrograph_incl_start": all_s / n,
            }
    return {"n_micrographs": n, **result}


def _medians(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], int | float)}


def ratios(results: dict) -> dict:
    out = {}
    pre = results["preprocess"]
    if "topaz_s_per_micrograph_marginal" in pre:
        out["preprocess_speedup_marginal"] = (
            pre["topaz_s_per_micrograph_marginal"] / pre["pickflow_s_per_micrograph_marginal"]
        )
        out["preprocess_speedup_workflow_jobs"] = (
            pre["topaz_s_per_micrograph_incl_process_start"] / pre["pickflow_s_per_micrograph_one_job_each"]
        )
    med = results["train"]["median"]
    if "topaz" in med:
        out["train_updates_per_s_ratio"] = med["topaz"]["s_per_update"] / med["pickflow"]["s_per_update"]
        out["train_updates_per_s_ratio_after_epoch_1"] = (
            med["topaz"]["s_per_update"] / med["pickflow"]["s_per_update_after_epoch_1"]
        )
        if "pickflow_fp32" in med:
            out["train_updates_per_s_ratio_fp32"] = med["topaz"]["s_per_update"] / med["pickflow_fp32"]["s_per_update"]
        out["evaluation_speedup"] = med["topaz"]["s_per_epoch_evaluation"] / med["pickflow"]["s_per_epoch_evaluation"]
        out["train_wall_ratio"] = med["topaz"]["wall_s"] / med["pickflow"]["wall_s"]
    ext = results["extract"]
    if "topaz" in ext:
        for name in ("pickflow_stride1", "pickflow_stride2"):
            out[f"extract_speedup_{name}"] = (
                ext["topaz"]["s_per_micrograph_marginal"] / ext[name]["s_per_micrograph_marginal"]
            )
    return out


def markdown(results: dict) -> str:
    title = f"# pickflow vs Topaz side by side ({results['date']}, {results['machine']}, commit {results['commit']})"
    return f"{title}\n\n{tables.side_by_side(results)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topaz-bin", default=str(topaz_cli.DEFAULT_TOPAZ_BIN))
    parser.add_argument("--work", default=str(WORK / "side_by_side"))
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--epoch-size", type=int, default=40)
    parser.add_argument("--minibatch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--micrographs", type=int, default=10)
    parser.add_argument("--skip-topaz", action="store_true", help="measure pickflow only (Topaz not installed)")
    parser.add_argument(
        "--precision", choices=["auto", "fp32", "bf16"], default="auto", help="pickflow's train.precision"
    )
    parser.add_argument("--compile", action="store_true", help="pickflow's train.compile")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny settings: checks the benchmark itself, figures meaningless"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.repeats, args.epochs, args.epoch_size, args.minibatch, args.micrographs = 1, 1, 3, 16, 5
    work, out = Path(args.work).resolve(), Path(args.out).resolve()  # data sets link by absolute path
    if not args.skip_topaz and not Path(args.topaz_bin).exists():
        parser.error(f"{args.topaz_bin} not found: run `bash benchmarks/topaz_setup.sh` first, or pass --skip-topaz")
    data = prepare(work, args.micrographs)
    provenance = collect()
    results = {
        "date": provenance["date"],
        "machine": machine(),
        "commit": provenance["git_commit"],
        "provenance": provenance,
        "settings": vars(args),
    }
    results["preprocess"] = bench_preprocess(work, data, args)
    results["train"] = bench_train(work, data, args)
    topaz_runs = results["train"]["runs"]["topaz"]
    results["extract"] = bench_extract(work, data, args, topaz_runs[0]["best_epoch"] if topaz_runs else None)
    results["ratios"] = ratios(results)
    out.mkdir(parents=True, exist_ok=True)
    name = "side_by_side_smoke" if args.smoke else "side_by_side"
    (out / f"{name}.json").write_text(json.dumps(results, indent=2, default=str))
    (out / f"{name}.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
