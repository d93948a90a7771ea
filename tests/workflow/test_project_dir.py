"""One checkout, one directory per dataset: the workflow runs from anywhere with -s/-d/--configfile/--profile,
on a RELION-like project set up from the starter config."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest
import starfile
import yaml

from pickflow.io.micrographs import read_micrograph, write_mrc
from tests.workflow.helpers import DEMO, DEMO_MICROGRAPHS, REPO, TINY_CONFIG, make_workdir, snakemake

pytestmark = pytest.mark.workflow


def _relion_like_project(project) -> None:
    """4 demo micrographs as MotionCorr/job002/Movies/*.mrc, listed in CtfFind/job003/micrographs_ctf.star,
    with their labels as a ManualPick node; config.yaml is the starter config with this dataset's values."""
    chosen = DEMO_MICROGRAPHS[:4]
    names = [f"MotionCorr/job002/Movies/{m.stem}.mrc" for m in chosen]
    for png, name in zip(chosen, names, strict=True):
        write_mrc(project / name, read_micrograph(png), 5.36)
    (project / "CtfFind/job003").mkdir(parents=True)
    optics = pd.DataFrame(
        {"rlnOpticsGroupName": ["opticsGroup1"], "rlnOpticsGroup": [1], "rlnMicrographPixelSize": [5.36]}
    )
    micrographs = pd.DataFrame({"rlnMicrographName": names, "rlnOpticsGroup": [1] * 4})
    starfile.write({"optics": optics, "micrographs": micrographs}, project / "CtfFind/job003/micrographs_ctf.star")
    labels = pd.read_csv(DEMO / "coordinates.csv")
    files = []
    for png, name in zip(chosen, names, strict=True):
        mine = labels[labels["micrograph"] == png.name]
        path = name.replace("MotionCorr/job002", "ManualPick/job004").replace(".mrc", "_manualpick.star")
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        starfile.write(pd.DataFrame({"rlnCoordinateX": mine["x"], "rlnCoordinateY": mine["y"]}), project / path)
        files.append(path)
    node = pd.DataFrame({"rlnMicrographName": names, "rlnMicrographCoordinates": files})
    starfile.write({"coordinate_files": node}, project / "ManualPick/job004/manualpick.star")
    config = yaml.safe_load((REPO / "config/starter.yaml").read_text())
    config["micrographs"]["pixel_size"] = 5.36
    config["particle_diameter"] = 300
    config["preprocess"] = {"target_pixel_size": 21.44}
    config["split"] = TINY_CONFIG["split"]
    config["train"] = TINY_CONFIG["train"]
    config["pick"] = TINY_CONFIG["pick"]
    (project / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = tmp_path_factory.mktemp("dataset1")
    _relion_like_project(path)
    return path


def _from_elsewhere(project, cwd, *args: str) -> subprocess.CompletedProcess:
    """The documented command line, run from a directory that is neither the checkout nor the project."""
    argv = [
        *(sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(project)),
        *("--configfile", str(project / "config.yaml"), "--profile", str(REPO / "profiles/local"), "--cores", "1"),
        *args,
    ]
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=900)


def test_starter_config_plans_the_whole_run_in_the_project_directory(project, tmp_path):
    result = _from_elsewhere(project, tmp_path, "--dry-run", "--quiet", "rules")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = dict(line.split() for line in result.stdout.splitlines() if line.split()[:1] == ["preprocess"])
    assert counts == {"preprocess": "4"}
    assert not any(tmp_path.iterdir())


def test_jobs_run_with_the_checkouts_scripts_and_write_into_the_project(project, tmp_path):
    result = _from_elsewhere(project, tmp_path, "results/labels/labels.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    labels = pd.read_csv(project / "results/labels/labels.csv", dtype={"micrograph": str})
    assert sorted(labels["micrograph"].unique()) == sorted(m.stem for m in DEMO_MICROGRAPHS[:4])
    assert len(list((project / "results/preprocessed").glob("*.mrc"))) == 4
    assert not any(tmp_path.iterdir())


def test_a_glob_with_dose_weighted_twins_is_warned_about(tmp_path):
    workdir = make_workdir(tmp_path)
    first = DEMO_MICROGRAPHS[0]
    shutil.copy(first, workdir / "data/micrographs" / f"{first.stem}_doseweighted.png")
    result = snakemake(workdir, "--dry-run", "--quiet", "rules")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"both dose-weighted and not, e.g. {first.stem}_doseweighted" in result.stdout + result.stderr
