"""The conda environment for cluster users pins the same versions as the pip requirements; the
provenance of a run is read without writing to the code checkout."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

from pickflow.report.provenance import git_commit

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


def test_reading_the_commit_leaves_the_git_index_alone(tmp_path):
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "code.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "code.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "c"], check=True)
    os.utime(tmp_path / "code.py", (1e9, 1e9))  # same content, new time: the index's stat data is stale
    index = tmp_path / ".git" / "index"
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    assert git_commit(tmp_path) == head  # a touched but unchanged file is not a local change
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before  # git status would have rewritten it
