"""Tests of the micrograph simulator (pickflow.simulate): small 256-px micrographs, a few seconds in all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mrcfile
import numpy as np
import pandas as pd
import pytest
import starfile
from scipy.ndimage import gaussian_filter
from scipy.spatial.transform import Rotation

from pickflow.io.coordinates import read_coordinate_file
from pickflow.simulate import (
    PRESETS,
    SimulationConfig,
    ctf,
    ctf_2d,
    electron_wavelength,
    ellipsoid_model,
    model_volume,
    preset,
    project_gaussians,
    render_gaussians,
    ribosome_model,
    select_labels,
    simulate_micrograph,
    write_dataset,
)

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"image_size": 256, "particles_per_micrograph": 10, "micrographs": 2}


def small(name: str = "easy", **overrides) -> SimulationConfig:
    return preset(name, **{**SMALL, **overrides})


@pytest.fixture(scope="module")
def crowded():
    """A hard micrograph with aggregates, contamination and carbon."""
    cfg = small(
        "hard",
        seed=11,
        particles_per_micrograph=16,
        aggregate_probability=0.5,
        junk_per_micrograph=8,
        contamination_count=1.0,
        carbon_probability=1.0,
    )
    return cfg, *simulate_micrograph(cfg, 0)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    cfg = small("hard", seed=5, label_fraction=0.5, label_jitter=3.0, junk_per_micrograph=5)
    out = tmp_path_factory.mktemp("sim")
    write_dataset(cfg, out)
    return cfg, out


def test_same_seed_same_micrograph_other_seed_differs():
    cfg = small(seed=3)
    image_a, parts_a, junk_a = simulate_micrograph(cfg, 0)
    image_b, parts_b, junk_b = simulate_micrograph(cfg, 0)
    assert image_a.dtype == np.float32 and image_a.shape == (256, 256)
    np.testing.assert_array_equal(image_a, image_b)
    pd.testing.assert_frame_equal(parts_a, parts_b)
    pd.testing.assert_frame_equal(junk_a, junk_b)
    image_c, parts_c, _ = simulate_micrograph(cfg.replace(seed=4), 0)
    assert not np.array_equal(image_a, image_c)
    assert not np.allclose(parts_a[["x", "y"]].to_numpy(), parts_c[["x", "y"]].to_numpy())
    image_d, _, _ = simulate_micrograph(cfg, 1)  # the next micrograph of the same data set
    assert not np.array_equal(image_a, image_d)


def test_ground_truth_inside_and_separated(crowded):
    cfg, _, particles, junk = crowded
    n = cfg.image_size
    assert len(particles) == cfg.particles_per_micrograph
    assert particles["x"].between(0, n - 1).all() and particles["y"].between(0, n - 1).all()
    assert particles["is_aggregate"].any() and not particles["is_aggregate"].all()
    assert (particles["aggregate_id"] >= 0).eq(particles["is_aggregate"]).all()
    diameter = 2 * cfg.particle_radius / cfg.pixel_size
    xy = particles[["x", "y"]].to_numpy()
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    group = particles["aggregate_id"].to_numpy()
    same_cluster = (group[:, None] == group[None, :]) & (group[:, None] >= 0)
    off_diagonal = ~np.eye(len(xy), dtype=bool)
    assert dist[off_diagonal & ~same_cluster].min() >= cfg.min_separation * diameter - 1e-9
    touching = dist[off_diagonal & same_cluster]
    assert touching.min() >= 0.8 * diameter - 1e-9 and touching.min() <= 1.0 * diameter + 1e-9
    assert particles.attrs["micrograph"]["carbon"] in ("straight", "curved")
    assert len(junk) == 8 and {"x", "y", "radius", "kind"} <= set(junk.columns)


def test_select_labels_subset_with_bounded_jitter(crowded):
    cfg, _, particles, _ = crowded
    labels = select_labels(particles, 0.25, 4.0, np.random.default_rng(0), cfg.image_size)
    assert len(labels) == round(0.25 * len(particles))
    assert labels["particle"].is_unique
    source = particles.iloc[labels["particle"]][["x", "y"]].to_numpy()
    shift = np.hypot(*(labels[["x", "y"]].to_numpy() - source).T)
    assert shift.max() <= 4.0 + 1e-9 and shift.max() > 0


def test_written_dataset_reads_back(dataset):
    cfg, out = dataset
    mrcs = sorted((out / "micrographs").glob("*.mrc"))
    assert [p.stem for p in mrcs] == ["sim_0000", "sim_0001"]
    with mrcfile.open(mrcs[0]) as mrc:
        assert mrc.data.shape == (256, 256) and mrc.data.dtype == np.float32
        assert float(mrc.voxel_size.x) == pytest.approx(cfg.pixel_size)
        assert mrc.data.mean() > 0
    truth = pd.read_csv(out / "ground_truth.csv", dtype={"micrograph": str})
    assert list(truth.columns[:3]) == ["micrograph", "x", "y"]
    assert set(truth["micrograph"]) == {"sim_0000", "sim_0001"}
    assert truth["x"].between(0, 255).all() and truth["y"].between(0, 255).all()
    labels = pd.read_csv(out / "labels.csv", dtype={"micrograph": str})
    assert list(labels.columns) == ["micrograph", "x", "y"]
    star = starfile.read(out / "labels.star")
    assert list(star.columns) == ["rlnMicrographName", "rlnCoordinateX", "rlnCoordinateY"]
    assert len(star) == len(labels)
    np.testing.assert_allclose(star["rlnCoordinateX"], labels["x"], atol=0.01)
    assert read_coordinate_file(out / "labels.star")["micrograph"].isin({"sim_0000", "sim_0001"}).all()
    meta = json.loads((out / "simulation.json").read_text())
    assert SimulationConfig.from_dict(meta["config"]) == cfg
    assert len(meta["micrographs"]) == 2
    # Labels: about label_fraction of the particles of each micrograph, each near a true centre.
    for name, group in labels.groupby("micrograph"):
        mine = truth[truth["micrograph"] == name][["x", "y"]].to_numpy()
        assert len(group) == round(cfg.label_fraction * len(mine))
        nearest = np.hypot(*(group[["x", "y"]].to_numpy()[:, None, :] - mine[None]).transpose(2, 0, 1)).min(1)
        assert nearest.max() <= cfg.label_jitter + 0.01


def test_dataset_in_worker_processes_is_the_same_files(dataset, tmp_path):
    cfg, out = dataset
    write_dataset(cfg, tmp_path, processes=2)
    written = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for name in written:
        if name.suffix == ".mrc":  # the same pixels (the header holds a creation time)
            np.testing.assert_array_equal(mrcfile.read(tmp_path / name), mrcfile.read(out / name))
        elif name.suffix == ".star":  # the same table (starfile writes a creation time)
            pd.testing.assert_frame_equal(starfile.read(tmp_path / name), starfile.read(out / name))
        else:
            assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_ctf_sign_and_first_zero():
    assert electron_wavelength(300.0) == pytest.approx(0.019687, abs=1e-5)
    for amplitude in (0.07, 0.1):
        for defocus in (0.5, 1.5, 3.0):
            assert ctf(0.0, defocus, amplitude_contrast=amplitude) == pytest.approx(-amplitude)
    k = np.linspace(0, 0.2, 20001)

    def first_zero(defocus: float, cs: float = 2.7) -> float:
        values = ctf(k, defocus, cs_mm=cs, b_factor=100.0)
        return float(k[np.flatnonzero(np.sign(values[1:]) != np.sign(values[:-1]))[0]])

    assert first_zero(1.0) > first_zero(2.0) > first_zero(3.0)
    chi0 = np.pi - np.arctan(0.1 / np.sqrt(1 - 0.01))  # -sqrt(1-A^2) sin(chi) = A cos(chi), first root
    expected = np.sqrt(chi0 / (np.pi * electron_wavelength(300.0) * 2e4))
    assert first_zero(2.0, cs=0.0) == pytest.approx(expected, abs=2e-5)
    assert ctf(0.1, 1.5) < 0 and ctf(0.01, 1.5) < -0.1  # underfocus: particles dark at low resolution
    grid = ctf_2d((64, 64), 2.0, 1.5, 1.4, 0.3, b_factor=50.0)
    assert grid.shape == (64, 33) and grid[0, 0] == pytest.approx(-0.1)


def test_analytic_projection_matches_summed_volume():
    model = ribosome_model(40.0, 32, np.random.default_rng(1))
    pixel, box = 2.0, 64
    volume_projection = model_volume(model, pixel, box).sum(axis=0) * pixel  # line integral along z
    gaussians = project_gaussians(
        model.centers[None],
        model.covariances[None],
        model.densities[None],
        np.eye(3)[None],
        np.array([[32.0, 32.0]]),
        pixel,
    )
    analytic = render_gaussians((box, box), *gaussians)
    assert np.abs(analytic - volume_projection).max() < 0.02 * volume_projection.max()
    rotations = Rotation.random(2, random_state=np.random.default_rng(2)).as_matrix()
    views = [
        render_gaussians(
            (box, box),
            *project_gaussians(
                model.centers[None],
                model.covariances[None],
                model.densities[None],
                r[None],
                np.array([[32.0, 32.0]]),
                pixel,
            ),
        )
        for r in rotations
    ]
    assert np.corrcoef(views[0].ravel(), views[1].ravel())[0, 1] < 0.95  # orientations give different views
    assert views[0].sum() == pytest.approx(analytic.sum(), rel=1e-3)  # the mass is kept


def test_particles_detectable_after_lowpass_in_easy_preset():
    cfg = small(seed=2)
    image, particles, junk = simulate_micrograph(cfg, 0)
    r = cfg.particle_radius / cfg.pixel_size
    low = gaussian_filter(image.astype(np.float64), r / 6)
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    centres = np.r_[particles[["x", "y"]].to_numpy(), junk[["x", "y"]].to_numpy()]
    nearest = np.min([np.hypot(xx - x, yy - y) for x, y in centres], axis=0)
    free = nearest > 1.2 * r
    noise = image[free].std()
    contrast = []
    for x, y in particles[["x", "y"]].to_numpy():
        d = np.hypot(xx - x, yy - y)
        contrast.append((low[free & (d < 2.5 * r)].mean() - low[d < 0.4 * r].mean()) / noise)
    contrast = np.array(contrast)
    assert (contrast > 0).mean() >= 0.9  # particles are darker than their surroundings (underfocus)
    assert contrast.mean() > 0.1  # by > 0.1 raw noise std ...
    assert contrast.mean() > 0.8 * low[free].std() / noise  # ... and clearly above the lowpassed background


def test_no_particles_and_config_checks():
    image, particles, junk = simulate_micrograph(small(particles_per_micrograph=0, junk_per_micrograph=0), 0)
    assert image.shape == (256, 256) and particles.empty and junk.empty and np.isfinite(image).all()
    with pytest.raises(ValueError, match="label_fraction"):
        SimulationConfig(label_fraction=1.5)
    with pytest.raises(ValueError, match="unknown"):
        SimulationConfig.from_dict({"not_a_setting": 1})
    assert PRESETS["hard"]["snr"] < PRESETS["easy"]["snr"]
    assert preset("easy").label_fraction == 0.5 and preset("hard").label_fraction == 0.25


def test_cli_runs_without_snakemake(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "pickflow", "simulate", str(tmp_path / "out"), "--micrographs", "1"]
    args += ["--size", "96", "--particles", "3", "--seed", "1", "--preset", "hard", "--set", "junk_per_micrograph=2"]
    result = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "out" / "simulation.json").read_text())
    assert meta["config"]["image_size"] == 96 and meta["config"]["junk_per_micrograph"] == 2
    assert (tmp_path / "out" / "micrographs" / "sim_0000.mrc").is_file()


def test_ellipsoid_particle_is_elongated_by_its_aspect_and_used_by_the_simulator():
    model = ellipsoid_model(60.0, 3.0, 64, np.random.default_rng(0))
    spread = model.centers.std(0)
    assert spread[0] > 2 * spread[1] and spread[0] > 2 * spread[2]
    assert np.abs(model.centers).max() <= 60.0
    rod = SimulationConfig(image_size=128, particle_shape="ellipsoid", particle_aspect=3.0, particles_per_micrograph=3)
    image_rod, _, _ = simulate_micrograph(rod, 0)
    image_ribosome, _, _ = simulate_micrograph(rod.replace(particle_shape="ribosome"), 0)
    assert not np.array_equal(image_rod, image_ribosome)
    with pytest.raises(ValueError, match="particle_shape"):
        SimulationConfig(particle_shape="cube")
