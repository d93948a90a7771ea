"""Picking while data arrives: micrographs appear at a steady rate in a folder that ``pickflow watch`` watches; how long
after each one arrived are its picks written?

    python -m benchmarks.arrival [--micrographs 20] [--period 30] [--initial 5] [--interval 5] [--settle 2]
        [--cores 2] [--model general] [--label NAME] [--out benchmarks/results] [--keep DIR] [--smoke]

The project picks with a model it does not train (``pick.model``: the shipped general model by default, or the
``model.pt`` of an earlier run), no labels, ``pick.threshold.mode: expected``. It starts with ``--initial``
micrographs (picked by the watcher's first run, not timed). Then one micrograph is copied into the watched folder
every ``--period`` seconds: the bundled EMPIAR-10028 demo micrographs (1024², 5.36 Å/px) under new names, in turn.
The arrival time of a micrograph is the moment its copy was complete; its picks time is when the workflow run that
wrote its picks ended (``results/watch/delays.csv``). The delay between the two includes the watcher's ``--settle``
and its polling, as a user sees it. Each micrograph's STAR file and pick count are checked.

Writes OUT/arrival-LABEL.json: the settings, every micrograph's delay, the median and maximum, how many workflow
runs the watcher made and the micrographs per run. ``--smoke``: 3 micrographs, 1 initial, a short period.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from benchmarks import scale

REPO = scale.REPO
DEMO = sorted((REPO / "data" / "empiar10028" / "micrographs").glob("*.png"))
CONFIG = {
    "micrographs": {"path": "data/micrographs/*.png", "pixel_size": 5.36},
    "particle_diameter": 300,
    "labels": {"coordinates": None},
    "train": {"model": "resnet8", "expected_particles": 150, "device": "cpu", "threads": 1},
    "pick": {"model": "general", "threshold": {"mode": "expected"}, "batch_size": 5, "device": "cpu", "threads": 1},
}


def name(i: int) -> str:
    return f"arrival_{i:04d}.png"


def make_project(root: Path, initial: int, model: str) -> Path:
    mics = root / "data" / "micrographs"
    mics.mkdir(parents=True)
    for i in range(initial):
        shutil.copy(DEMO[i % len(DEMO)], mics / name(i))
    config = {**CONFIG, "pick": {**CONFIG["pick"], "model": model}}
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root


def start_watch(project: Path, args: argparse.Namespace) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    argv = [sys.executable, "-m", "pickflow", "watch", "--interval", str(args.interval), "--settle", str(args.settle)]
    argv += ["--cores", str(args.cores)]
    log = (project / "watch.console").open("w")
    return subprocess.Popen(argv, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def wait_until(condition, proc: subprocess.Popen, project: Path, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise RuntimeError(f"the watcher stopped ({what}):\n{(project / 'watch.console').read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.5)


def picked(project: Path) -> dict[str, dict[str, float]]:
    """The watcher's delays.csv: micrograph -> its row (arrived_unix, picked_unix, delay_s as floats)."""
    table = project / "results" / "watch" / "delays.csv"
    if not table.exists():
        return {}
    with table.open() as handle:
        return {
            row["micrograph"]: {k: float(v) for k, v in row.items() if k != "micrograph"}
            for row in csv.DictReader(handle)
        }


def arrive(project: Path, args: argparse.Namespace, proc: subprocess.Popen) -> dict[str, float]:
    """Copy the micrographs in at a steady rate; return name -> unix time its copy was complete."""
    mics = project / "data" / "micrographs"
    arrived: dict[str, float] = {}
    start = time.monotonic()
    for k, i in enumerate(range(args.initial, args.initial + args.micrographs)):
        pause = start + k * args.period - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        if proc.poll() is not None:
            raise RuntimeError(f"the watcher stopped:\n{(project / 'watch.console').read_text()[-3000:]}")
        shutil.copy(DEMO[i % len(DEMO)], mics / name(i))
        arrived[name(i)] = time.time()
    return arrived


def runs_of(project: Path) -> list[int]:
    """Micrographs picked per workflow run of the watcher, from its log ('picking A B C')."""
    log = (project / "results" / "watch" / "watch.log").read_text().splitlines()
    return [len(line.split("picking ", 1)[1].split()) for line in log if "picking " in line]


def measure(project: Path, args: argparse.Namespace) -> dict:
    proc = start_watch(project, args)
    try:
        log = project / "results" / "watch" / "watch.log"
        wait_until(lambda: log.exists() and "watching" in log.read_text(), proc, project, 1800, "the first picks")
        arrived = arrive(project, args, proc)
        wait_until(lambda: set(arrived) <= set(picked(project)), proc, project, 1800, "the picks of every micrograph")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    rows = picked(project)
    summary = json.loads((project / "results" / "picks" / "summary.json").read_text())
    per = []
    for mic, done in arrived.items():
        stem = Path(mic).stem
        per.append(
            {
                "micrograph": mic,
                "arrived_unix": round(done, 2),
                "picks_written_unix": rows[mic]["picked_unix"],
                "delay_s": round(rows[mic]["picked_unix"] - done, 1),
                "watcher_delay_s": rows[mic]["delay_s"],  # from the poll that counted it as arrived
                "picks": summary["picks_per_micrograph"].get(stem, 0),
                "star_written": (project / "results" / "picks" / "micrographs" / f"{stem}.star").exists(),
            }
        )
    delays = [row["delay_s"] for row in per]
    runs = runs_of(project)
    return {
        "delay_s": {
            "median": round(statistics.median(delays), 1),
            "max": round(max(delays), 1),
            "min": round(min(delays), 1),
            "mean": round(statistics.fmean(delays), 1),
        },
        "workflow_runs": len(runs),
        "micrographs_per_run": runs,
        "all_picked": all(row["star_written"] for row in per),
        "micrographs_with_picks": sum(row["picks"] > 0 for row in per),
        "per_micrograph": per,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--micrographs", type=int, default=20, help="micrographs that arrive while it watches")
    parser.add_argument("--period", type=float, default=30.0, help="seconds between two arrivals")
    parser.add_argument("--initial", type=int, default=5, help="micrographs in the project at the start")
    parser.add_argument("--interval", type=float, default=5.0, help="pickflow watch --interval")
    parser.add_argument("--settle", type=float, default=2.0, help="pickflow watch --settle")
    parser.add_argument("--cores", type=int, default=2, help="pickflow watch --cores")
    parser.add_argument("--model", default="general", help="pick.model: general or the path of a model.pt")
    parser.add_argument("--label", default="working-tree")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--keep", type=Path, help="make the project here (kept) instead of in a temp dir")
    parser.add_argument("--smoke", action="store_true", help="3 micrographs, 1 initial, a period of 5 s")
    args = parser.parse_args(argv)
    if args.smoke:
        args.micrographs, args.initial, args.period, args.interval, args.settle = 3, 1, 5.0, 1.0, 1.0
    return args


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pickflow-arrival-") as tmp:
        project = make_project(args.keep or Path(tmp) / "project", args.initial, args.model)
        t0 = time.time()
        measured = measure(project, args)
        result = {
            "label": args.label,
            "machine": scale.machine(),  # with the load average at the end
            "settings": {
                "micrographs": args.micrographs,
                "initial": args.initial,
                "period_s": args.period,
                "interval_s": args.interval,
                "settle_s": args.settle,
                "cores": args.cores,
                "pick": {**CONFIG["pick"], "model": args.model},
                "data": "EMPIAR-10028 demo micrographs, 1024x1024 PNG, 5.36 A/px, copied in under new names",
            },
            "wall_s": round(time.time() - t0, 1),
            **measured,
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"arrival-{args.label}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "per_micrograph"}, indent=2))
    return result


if __name__ == "__main__":
    main()
