"""Back to RELION, proven with the real program: Debian's RELION 3.1 imports the micrographs of a
RELION-like project and extracts pickflow's picks from its output as they are."""

from __future__ import annotations

import os
import shutil
import subprocess

import mrcfile
import numpy as np
import pandas as pd
import pytest
import starfile
import tifffile
import yaml

from pickflow.io.micrographs import read_micrograph, write_mrc
from pickflow.io.relion import write_relion_picks
from tests.workflow.helpers import DEMO, DEMO_MICROGRAPHS, TINY_CONFIG, merge, snakemake, write_config

pytestmark = pytest.mark.workflow

PIXEL_SIZE = 5.36
BOX = 64  # the 300 Å particle is 56 px


def _relion() -> None:
    """Debian's RELION (make test-deps installs it); installed here where apt-get runs as root."""
    if shutil.which("relion_preprocess"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("RELION is not installed and installing Debian's relion needs root and apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, env=env, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "relion"], check=True, capture_output=True, env=env, timeout=900)


def _relion_run(project, *argv: str) -> None:
    result = subprocess.run(list(argv), cwd=project, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(argv)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """A RELION project with 4 demo micrographs as Movies/*.mrc; pickflow runs in it, then RELION
    imports the micrographs and extracts from results/picks/relion/ with the suffix _pickflow.star."""
    _relion()
    project = tmp_path_factory.mktemp("relion_project")
    chosen = DEMO_MICROGRAPHS[:4]
    for png in chosen:
        write_mrc(project / "Movies" / f"{png.stem}.mrc", read_micrograph(png), PIXEL_SIZE)
    labels = pd.read_csv(DEMO / "coordinates.csv")
    labels[labels["micrograph"].isin([m.name for m in chosen])].to_csv(project / "labels.csv", index=False)
    config = merge(TINY_CONFIG, {"micrographs": {"path": "Movies/*.mrc"}, "labels": {"coordinates": "labels.csv"}})
    write_config(project, config)
    result = snakemake(project, "--cores", "2", "results/picks/particles.star")
    assert result.returncode == 0, result.stderr[-5000:]
    for job in ("Import/job001", "Extract/job002"):  # RELION's pipeliner makes the job directories
        (project / job).mkdir(parents=True)
    _relion_run(
        project,
        "relion_import",
        "--do_micrographs",
        "--i",
        "Movies/*.mrc",
        "--odir",
        "Import/job001/",
        "--ofile",
        "micrographs.star",
        "--angpix",
        str(PIXEL_SIZE),
    )
    _relion_run(
        project,
        "relion_preprocess",
        "--i",
        "Import/job001/micrographs.star",
        "--coord_dir",
        "results/picks/relion/",
        "--coord_suffix",
        "_pickflow.star",
        "--part_star",
        "Extract/job002/particles.star",
        "--part_dir",
        "Extract/job002/",
        "--extract",
        "--extract_size",
        str(BOX),
    )
    return project


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    columns = ["rlnMicrographName", "rlnCoordinateX", "rlnCoordinateY"]
    return table[columns].sort_values(columns, ignore_index=True)


def test_relion_extracts_every_pick_at_pickflows_coordinates(extracted):
    picks = starfile.read(extracted / "results/picks/particles.star")
    particles = starfile.read(extracted / "Extract/job002/particles.star", always_dict=True)["particles"]
    assert len(picks) > 0
    assert len(particles) == len(picks)
    assert set(particles["rlnMicrographName"]) == {f"Movies/{m.stem}.mrc" for m in DEMO_MICROGRAPHS[:4]}
    mine, relions = _sorted(picks), _sorted(particles)
    assert mine["rlnMicrographName"].tolist() == relions["rlnMicrographName"].tolist()
    np.testing.assert_allclose(
        relions[["rlnCoordinateX", "rlnCoordinateY"]], mine[["rlnCoordinateX", "rlnCoordinateY"]], atol=1e-3
    )


def test_relions_particle_images_are_the_micrograph_at_pickflows_coordinates(extracted):
    """The same particle: RELION's box around (x, y) is micrograph[y - 32 : y + 32, x - 32 : x + 32]."""
    particles = starfile.read(extracted / "Extract/job002/particles.star", always_dict=True)["particles"]
    inside = particles[
        particles["rlnCoordinateX"].between(BOX, 1024 - BOX) & particles["rlnCoordinateY"].between(BOX, 1024 - BOX)
    ]
    assert len(inside) > 0
    for row in inside.head(5).itertuples():
        index, stack = row.rlnImageName.split("@")
        with mrcfile.open(extracted / stack) as mrc:
            image = np.asarray(mrc.data[int(index) - 1])
        micrograph = read_micrograph(extracted / row.rlnMicrographName)
        x, y = int(row.rlnCoordinateX), int(row.rlnCoordinateY)
        np.testing.assert_allclose(
            image, micrograph[y - BOX // 2 : y + BOX // 2, x - BOX // 2 : x + BOX // 2], rtol=1e-6
        )


def test_the_workflow_reads_relions_micrograph_list_and_manualpick_node(extracted):
    """From RELION: relion_import's micrographs.star as micrographs.path and a RELION 4/5 ManualPick node
    (one micrograph visited without picks) as labels, checked when the workflow is parsed."""
    labels = pd.read_csv(extracted / "labels.csv")
    names = sorted(f"Movies/{m.stem}.mrc" for m in DEMO_MICROGRAPHS[:4])
    files = []
    for i, name in enumerate(names):
        mine = labels[labels["micrograph"] == name.split("/")[1].replace(".mrc", ".png")] if i else labels.iloc[:0]
        path = f"ManualPick/job003/{name.replace('.mrc', '_manualpick.star')}"
        (extracted / path).parent.mkdir(parents=True, exist_ok=True)
        starfile.write(pd.DataFrame({"rlnCoordinateX": mine["x"], "rlnCoordinateY": mine["y"]}), extracted / path)
        files.append(path)
    node = pd.DataFrame({"rlnMicrographName": names, "rlnMicrographCoordinates": files})
    starfile.write({"coordinate_files": node}, extracted / "ManualPick/job003/manualpick.star")
    config = yaml.safe_load((extracted / "config.yaml").read_text())
    config["micrographs"]["path"] = "Import/job001/micrographs.star"
    config["labels"]["coordinates"] = "ManualPick/job003/manualpick.star"
    write_config(extracted, config, "relion_inputs.yaml")
    result = snakemake(extracted, "--configfile", "relion_inputs.yaml", "--dry-run", "--quiet", "rules")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1 coordinate file(s) have no coordinates" in result.stderr
    assert f"{names[0].split('/')[1].replace('.mrc', '')}_manualpick.star" in result.stderr


def test_a_tiff_pick_lands_on_the_same_pixel_in_relion(tmp_path):
    """An asymmetric LZW-compressed TIFF with one bright pixel: pickflow finds it at (x, y); RELION 3.1's
    extraction at pickflow's (x, y) has that pixel at its box centre (RELION flips TIFF, and so does pickflow)."""
    _relion()
    image = np.random.default_rng(0).integers(100, 200, size=(128, 160)).astype(np.uint16)
    image[30, 70] = 1000  # row 30 of the TIFF file: row 128 - 1 - 30 = 97 for RELION
    (tmp_path / "Movies").mkdir()
    tifffile.imwrite(tmp_path / "Movies/a.tif", image, compression="lzw")
    pixels = read_micrograph(tmp_path / "Movies/a.tif")
    y, x = np.unravel_index(np.argmax(pixels), pixels.shape)
    assert (x, y) == (70, 97)
    picks = pd.DataFrame({"micrograph": ["a"], "x": [float(x)], "y": [float(y)], "score": [1.0]})
    write_relion_picks(picks, {"a": "Movies/a.tif"}, tmp_path / "picks", tmp_path / "coordinate_files.star")
    for job in ("Import/job001", "Extract/job002"):
        (tmp_path / job).mkdir(parents=True)
    _relion_run(
        tmp_path,
        *("relion_import", "--do_micrographs", "--i", "Movies/*.tif"),
        *("--odir", "Import/job001/", "--ofile", "micrographs.star"),
    )
    _relion_run(
        tmp_path,
        *("relion_preprocess", "--i", "Import/job001/micrographs.star", "--coord_dir", "picks/"),
        *("--coord_suffix", "_pickflow.star", "--part_star", "Extract/job002/particles.star"),
        *("--part_dir", "Extract/job002/", "--extract", "--extract_size", "32"),
    )
    with mrcfile.open(tmp_path / "Extract/job002/Movies/a.mrcs") as mrc:
        particle = np.asarray(mrc.data).reshape(32, 32)
    assert np.unravel_index(np.argmax(particle), particle.shape) == (16, 16)
    assert particle[16, 16] == 1000
