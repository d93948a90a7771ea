"""Pick while data is collected (``pickflow watch``): rerun the workflow as new motion-corrected micrographs appear,
with the model the project already trained (never retraining), and record how long each micrograph waited for its picks.

Every ``interval`` seconds the micrographs glob of the config is listed. A file counts as arrived once its size has
not changed for ``settle`` seconds (a file still being copied is left for the next poll). When micrographs have
arrived, the watcher writes their list to watch-micrographs.txt and a config pointing at it to
results/watch/config.yaml, checks with a dry run that no training job would run (it stops with an error naming the
reason otherwise), and runs Snakemake for the picks (results/picks/: per-micrograph STAR and .box files, the combined
files and summary.json). Figures and the report are left to a final ``snakemake`` and ``snakemake --report``.

The delay of each micrograph (from the poll that first saw it to its picks being written) goes to the log and to
results/watch/delays.csv. The delay is at most ``settle`` + ``interval`` + the time of one workflow run.
Run the first, training ``snakemake`` by hand; then start this in the project directory (in tmux or screen).
"""

from __future__ import annotations

import csv
import logging
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import InputError
from ..io.atomic import write_text
from ..io.inputs import discover_micrographs

log = logging.getLogger("pickflow.workflow.watch")
WATCH_DIR = Path("results/watch")
LISTING = "watch-micrographs.txt"  # in the project directory: relative entries then resolve as in the glob
TARGET = "results/picks/summary.json"
SNAKEFILE = (
    Path(__file__).resolve().parents[2] / "Snakefile"
)  # the workflow of the checkout holding pickflow/, run in the current directory
TRAINING_JOBS = (["train"], ["cv_train"])  # the first word of a job-stats line


@dataclass(frozen=True)
class WatchOptions:
    """How the watcher polls and runs the workflow."""

    config: str = "config.yaml"
    interval: float = 30.0  # seconds between polls
    settle: float = 10.0  # seconds a file's size must stay the same
    cores: int = 2
    profile: str | None = None  # Snakemake profile for the runs
    stop_when_idle: float | None = None  # stop after this many seconds without a new micrograph


@dataclass
class Arrivals:
    """Micrographs seen so far: size and time of the last size change, and when each counted as arrived."""

    settle: float
    sizes: dict[Path, tuple[int, float]] = field(default_factory=dict)
    arrived: dict[Path, float] = field(default_factory=dict)
    last_change: float = 0.0  # when a file last appeared or changed size

    def poll(self, paths: list[Path], now: float) -> list[Path]:
        """Record the sizes of ``paths``; return those that arrived with this poll (size stable for ``settle`` s)."""
        new = []
        for path in paths:
            size = path.stat().st_size
            last_size, since = self.sizes.get(path, (-1, now))
            if size != last_size:
                self.sizes[path] = (size, now)
                self.last_change = now
            elif size > 0 and path not in self.arrived and now - since >= self.settle:
                self.arrived[path] = now
                new.append(path)
        return new


def snakemake(*extra: str) -> subprocess.CompletedProcess:
    """Run the workflow of this project with the watcher's config."""
    argv = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(SNAKEFILE),
        "--configfile",
        str(WATCH_DIR / "config.yaml"),
    ]
    argv += extra
    return subprocess.run(argv, capture_output=True, text=True)


def check_no_training() -> None:
    """Stop when the next run would train: the watcher only picks with the existing model."""
    plan = snakemake("--dry-run", TARGET, "--quiet", "rules")
    if plan.returncode != 0:
        raise InputError(f"the workflow cannot plan the next run:\n{plan.stderr[-3000:]}")
    planned = sorted({line.split()[0] for line in plan.stdout.splitlines() if line.split()[:1] in TRAINING_JOBS})
    if planned:
        raise InputError(
            f"the next run would train ({', '.join(planned)}): the labels, the training settings or the code changed, "
            "or no model was trained yet. Run `snakemake` by hand once, then start the watcher again."
        )


def write_inputs(config: dict, micrographs: list[Path]) -> None:
    """The micrographs that arrived, as a list file, and a config that points at it. The list lives in the project
    directory and holds the paths as the glob gave them, so that every job sees the same input paths as before."""
    listing = Path(LISTING)
    write_text(listing, "".join(f"{path}\n" for path in sorted(micrographs)))
    watched = {**config, "micrographs": {**config["micrographs"], "path": LISTING}}
    write_text(WATCH_DIR / "config.yaml", yaml.safe_dump(watched, sort_keys=False))


def record_delays(arrived: dict[Path, float], batch: list[Path], done: float) -> None:
    table = WATCH_DIR / "delays.csv"
    new_file = not table.exists()
    with table.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new_file:
            writer.writerow(["micrograph", "arrived_unix", "picked_unix", "delay_s"])
        for path in batch:
            delay = done - arrived[path]
            writer.writerow([path.name, f"{arrived[path]:.1f}", f"{done:.1f}", f"{delay:.1f}"])
            log.info("%s: picks written %.0f s after it arrived", path.name, delay)


def cycle(args: WatchOptions, config: dict, arrivals: Arrivals, pending: list[Path]) -> None:
    """Pick the micrographs that arrived so far; raise when the workflow fails."""
    write_inputs(config, list(arrivals.arrived))
    check_no_training()
    extra = ["--cores", str(args.cores)] + (["--profile", args.profile] if args.profile else [])
    result = snakemake(*extra, TARGET)
    if result.returncode != 0:
        raise InputError(f"the workflow failed; see its output:\n{result.stderr[-3000:]}")
    record_delays(arrivals.arrived, pending, time.time())


def watch(args: WatchOptions) -> None:
    config = yaml.safe_load(Path(args.config).read_text())
    WATCH_DIR.mkdir(parents=True, exist_ok=True)
    arrivals, pending = Arrivals(args.settle), []
    started = time.time()
    present = list(discover_micrographs(config["micrographs"]["path"]).values())
    arrivals.poll(present, started)
    arrivals.arrived = dict.fromkeys(present, started)  # there at the start: picked now, delay not recorded
    cycle(args, config, arrivals, [])
    last_activity = time.time()  # the end of the last arrival or workflow run: idle time counts from there
    log.info("watching %s: %d micrographs picked", config["micrographs"]["path"], len(present))
    while True:
        now = time.time()
        paths = list(discover_micrographs(config["micrographs"]["path"]).values())
        new = arrivals.poll(paths, now)
        if new:
            log.info("%d new micrographs (%d in all)", len(new), len(arrivals.arrived))
        pending += new
        if pending:
            log.info("picking %s", " ".join(path.name for path in pending))
            cycle(args, config, arrivals, pending)
            pending, last_activity = [], time.time()
        elif args.stop_when_idle is not None and now - max(last_activity, arrivals.last_change) >= args.stop_when_idle:
            log.info("no new micrograph for %.0f s: stopping", now - max(last_activity, arrivals.last_change))
            return
        time.sleep(args.interval)
