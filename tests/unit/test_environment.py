"""The conda environment for cluster users pins the same versions as the pip requirements."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CONDA_NAMES = {"torch": "pytorch"}


def pip_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[CONDA_NAMES.get(re.sub(r"\[.*\]", "", name), re.sub(r"\[.*\]", "", name))] = version
    return pins


def conda_pins() -> dict[str, str]:
    env = yaml.safe_load((REPO / "envs" / "pickflow.yaml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            pins[name] = version
        elif isinstance(dep, dict):  # packages conda-forge lacks, installed with pip
            pins.update(line.split("==") for line in dep["pip"])
    return pins


def test_conda_env_matches_pip_requirements():
    conda = conda_pins()
    conda.pop("python")
    assert conda == pip_pins()


def test_no_default_profile_that_would_override_cluster_profiles():
    assert not (REPO / "profiles" / "default").exists()
