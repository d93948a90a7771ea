"""Running the real workflow in a temporary directory, on a few of the bundled demo micrographs.

The one place that runs Snakemake on a working directory and writes its config: the workflow tests and the
benchmarks (``benchmarks/``) both use it."""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "empiar10028"
DEMO_MICROGRAPHS = sorted((DEMO / "micrographs").glob("*.png"))

# Small but real: 6 micrographs at 4x downsampling, a few short epochs, from scratch (the general model's
# start and scale have their own tests: tests/unit/test_general_models.py and the dry runs in test_demo_workflow).
TINY_CONFIG = {
    "micrographs": {"path": "data/micrographs/*.png", "pixel_size": 5.36},
    "particle_diameter": 300,
    "labels": {"coordinates": "data/coordinates.csv"},
    "preprocess": {"downsample": 4},
    "split": {"test_fraction": 0.34, "seed": 0},
    "train": {
        "expected_particles": 150,
        "minibatch_size": 32,
        "epoch_size": 15,
        "epochs": 3,
        "learning_rate": 0.002,
        "threads": 1,
        "device": "cpu",
        "init": "scratch",
    },
    "pick": {"batch_size": 4, "threads": 1, "device": "cpu"},
}


class RunsCode:
    """Unpickling this object runs a command that creates ``marker`` (a model file's hidden payload)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def merge(base: dict, overrides: dict) -> dict:
    """Nested dict update (returns a new dict)."""
    out = dict(base)
    for key, value in overrides.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def make_workdir(path: Path, n_micrographs: int = 6, **overrides) -> Path:
    """A working directory with demo micrographs, their labels and a config.yaml."""
    data = path / "data" / "micrographs"
    data.mkdir(parents=True)
    chosen = DEMO_MICROGRAPHS[:n_micrographs]
    for mic in chosen:
        shutil.copy(mic, data / mic.name)
    import pandas as pd

    labels = pd.read_csv(DEMO / "coordinates.csv")
    labels[labels["micrograph"].isin([m.name for m in chosen])].to_csv(path / "data" / "coordinates.csv", index=False)
    write_config(path, merge(TINY_CONFIG, overrides))
    return path


def write_config(workdir: Path, config: dict, name: str = "config.yaml") -> Path:
    target = workdir / name
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return target


def snakemake_argv(workdir: Path, *args: str, repo: Path = REPO, snakefile: Path | None = None) -> list[str]:
    """The command line that runs the workflow of ``repo`` (this checkout; or ``snakefile``) with ``workdir`` as
    working directory."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(snakefile or repo / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]


def snakemake(workdir: Path, *args: str, timeout: int = 900, repo: Path = REPO) -> subprocess.CompletedProcess:
    """Run the workflow of ``repo`` (this checkout) in ``workdir``."""
    return subprocess.run(
        snakemake_argv(workdir, *args, repo=repo), capture_output=True, text=True, timeout=timeout, cwd=workdir
    )


def copy_workflow(target: Path) -> Path:
    """A copy of this checkout's workflow and package, for tests that edit the code."""
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(REPO / name, target / name)
    for name in ("workflow", "scripts", "pickflow", "profiles", "envs"):
        shutil.copytree(REPO / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def planned_jobs(workdir: Path, *args: str, repo: Path = REPO) -> collections.Counter:
    """Rule -> number of jobs a dry run would execute (empty when nothing is to be done)."""
    result = snakemake(workdir, "--dry-run", "--quiet", "rules", *args, repo=repo)
    assert result.returncode == 0, result.stderr
    counts = job_stats(result.stdout)
    counts.pop("total", None)
    return collections.Counter(counts)


def job_stats(output: str) -> dict[str, int]:
    """Rule -> jobs from the last 'Job stats' table of a Snakemake output (with its 'total' row); empty when the
    output has none (nothing to be done)."""
    counts: dict[str, int] = {}
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.split()[:2] == ["job", "count"]]
    if not starts:
        return counts
    for line in lines[starts[-1] + 2 :]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts
