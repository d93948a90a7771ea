"""What produced a result: package versions, git commit, hardware, date."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

PACKAGES = (
    "pickflow",
    "torch",
    "numpy",
    "scipy",
    "pandas",
    "mrcfile",
    "starfile",
    "tifffile",
    "snakemake",
    "matplotlib",
)


def _version(name: str) -> str | None:
    if name == "pickflow":
        from .. import __version__

        return __version__
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def git_commit(root: Path | None = None) -> str | None:
    """Commit of the pickflow checkout (with '+dirty' for local changes), if it is a git checkout.

    Reads only: ``--no-optional-locks`` keeps ``git status`` from refreshing the index, which would
    take ``.git/index.lock`` and could collide with the user's own git command.
    """
    git = ["git", "--no-optional-locks", "-C", str(root or Path(__file__).resolve().parents[2])]
    try:
        commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def hardware(device: torch.device | None = None) -> dict:
    info = {
        "host": platform.node(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
    }
    if device is not None:
        info["device"] = str(device)
        if device.type == "cuda":
            info["gpu"] = torch.cuda.get_device_name(device)
    return info


def collect(device: torch.device | None = None) -> dict:
    """Versions, commit, hardware and date of this run."""
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": {name: _version(name) for name in PACKAGES},
        "git_commit": git_commit(),
        "hardware": hardware(device),
    }
