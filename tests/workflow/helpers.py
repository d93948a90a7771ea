"""Running the real workflow in a temporary directory, on a few of the bundled demo micrographs."""

from __future__ import annotations

import collections
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
    "pick": {"batches": 2, "threads": 1, "device": "cpu"},
}


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


def snakemake_argv(workdir: Path, *args: str) -> list[str]:
    """The command line that runs the repository's workflow with ``workdir`` as working directory."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the repository's workflow in ``workdir``."""
    return subprocess.run(snakemake_argv(workdir, *args), capture_output=True, text=True, timeout=timeout, cwd=workdir)


def planned_jobs(workdir: Path, *args: str) -> collections.Counter:
    """Rule -> number of jobs a dry run would execute (empty when nothing is to be done)."""
    result = snakemake(workdir, "--dry-run", "--quiet", "rules", *args)
    assert result.returncode == 0, result.stderr
    counts: collections.Counter = collections.Counter()
    lines = result.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.split()[:2] == ["job", "count"]), None)
    if start is not None:
        for line in lines[start + 2 :]:
            parts = line.split()
            if len(parts) != 2 or parts[0] == "total":
                break
            counts[parts[0]] = int(parts[1])
    return counts
