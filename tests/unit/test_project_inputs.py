"""Inputs as RELION and cryoSPARC projects hold them, in realistic files made with their own writers."""

from __future__ import annotations

import logging

import mrcfile
import numpy as np
import pandas as pd
import pytest
import starfile
from cryosparc.dataset import Dataset

from pickflow.errors import InputError
from pickflow.io.coordinates import read_coordinate_file, read_labels
from pickflow.io.cryosparc import twin_warnings
from pickflow.io.inputs import discover_micrographs, load_checked_labels
from pickflow.workflow.config import label_params, validate

OPTICS = pd.DataFrame(
    {
        "rlnOpticsGroupName": ["opticsGroup1"],
        "rlnOpticsGroup": [1],
        "rlnMicrographOriginalPixelSize": [0.885],
        "rlnVoltage": [300.0],
        "rlnSphericalAberration": [2.7],
        "rlnAmplitudeContrast": [0.1],
        "rlnMicrographPixelSize": [1.77],
    }
)
MICS = [f"MotionCorr/job002/Movies/20170629_000{i}_frameImage.mrc" for i in (21, 22, 23)]
CS_DEFAULTS = validate(
    {"micrographs": {"path": "x", "pixel_size": 1.77}, "particle_diameter": 150, "labels": {"coordinates": "x"}}
    | {"train": {"expected_particles": 100}}
)


def _micrographs_ctf_star(project) -> str:
    """A RELION 3.1+ CtfFind output: optics, then micrographs with CTF columns; the MRCs exist."""
    for name in MICS:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        with mrcfile.new(project / name) as mrc:
            mrc.set_data(np.random.default_rng(0).normal(size=(300, 400)).astype(np.float32))
    micrographs = pd.DataFrame(
        {
            "rlnCtfImage": [n.replace("MotionCorr/job002", "CtfFind/job003").replace(".mrc", ".ctf:mrc") for n in MICS],
            "rlnMicrographName": MICS,
            "rlnOpticsGroup": [1, 1, 1],
            "rlnDefocusU": [10863.86, 10879.59, 10828.10],
            "rlnDefocusV": [10575.04, 10598.53, 10482.27],
            "rlnCtfMaxResolution": [4.1, 4.3, 3.9],
        }
    )
    path = project / "CtfFind/job003/micrographs_ctf.star"
    path.parent.mkdir(parents=True, exist_ok=True)
    starfile.write({"optics": OPTICS, "micrographs": micrographs}, path)
    return "CtfFind/job003/micrographs_ctf.star"


def test_relion_micrographs_star_lists_the_micrographs_as_relion_names_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = discover_micrographs(_micrographs_ctf_star(tmp_path))
    assert {key: str(path) for key, path in found.items()} == {
        "20170629_00021_frameImage": MICS[0],
        "20170629_00022_frameImage": MICS[1],
        "20170629_00023_frameImage": MICS[2],
    }


def test_relion_micrographs_star_with_missing_micrographs_says_where_to_run(tmp_path):
    star = _micrographs_ctf_star(tmp_path)
    (tmp_path / MICS[1]).unlink()
    with pytest.raises(
        InputError, match=r"1 listed micrographs do not exist: .*00022_frameImage\.mrc.*project directory"
    ):
        discover_micrographs(star, base=tmp_path)


def _pick_file(project, micrograph: str, xy: list[tuple[float, float]]) -> str:
    """A RELION ManualPick per-micrograph file (no micrograph name in it), header only when empty."""
    name = micrograph.replace("MotionCorr/job002", "ManualPick/job004").replace(".mrc", "_manualpick.star")
    table = pd.DataFrame(
        {
            "rlnCoordinateX": [p[0] for p in xy],
            "rlnCoordinateY": [p[1] for p in xy],
            "rlnClassNumber": [-999] * len(xy),
            "rlnAnglePsi": [-999.0] * len(xy),
            "rlnAutopickFigureOfMerit": [-999.0] * len(xy),
        }
    )
    (project / name).parent.mkdir(parents=True, exist_ok=True)
    starfile.write(table, project / name)
    return name


def _manualpick_node(project, picks: dict[str, list[tuple[float, float]]]) -> str:
    node = pd.DataFrame(
        {
            "rlnMicrographName": list(picks),
            "rlnMicrographCoordinates": [_pick_file(project, mic, xy) for mic, xy in picks.items()],
        }
    )
    starfile.write({"coordinate_files": node}, project / "ManualPick/job004/manualpick.star")
    return "ManualPick/job004/manualpick.star"


def test_relion_manualpick_node_as_labels_with_an_empty_micrograph_warns(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    micrographs = discover_micrographs(_micrographs_ctf_star(tmp_path))
    node = _manualpick_node(tmp_path, {MICS[0]: [(120.5, 80.0), (300.0, 200.0)], MICS[1]: [], MICS[2]: [(50.0, 60.0)]})
    with caplog.at_level(logging.WARNING):
        labels = load_checked_labels(micrographs, [tmp_path / node], label_params(CS_DEFAULTS))
    assert labels.values.tolist() == [
        ["20170629_00021_frameImage", 120.5, 80.0],
        ["20170629_00021_frameImage", 300.0, 200.0],
        ["20170629_00023_frameImage", 50.0, 60.0],
    ]
    assert "1 coordinate file(s) have no coordinates" in caplog.text
    assert "20170629_00022_frameImage_manualpick.star" in caplog.text


def test_relion_manualpick_node_with_only_empty_files_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    micrographs = discover_micrographs(_micrographs_ctf_star(tmp_path))
    node = _manualpick_node(tmp_path, {MICS[0]: [], MICS[1]: []})
    with pytest.raises(InputError, match=r"no coordinates in any coordinate file.*manualpick\.star"):
        load_checked_labels(micrographs, [tmp_path / node])


def _data_star(path, particles: pd.DataFrame) -> None:
    optics = OPTICS.assign(rlnImagePixelSize=[3.54], rlnImageSize=[64], rlnImageDimensionality=[2])
    starfile.write({"optics": optics, "particles": particles}, path)


def test_refinement_data_star_labels_sit_on_the_refined_centres(tmp_path):
    """RELION 3.1+: the centre is the coordinate minus the origin offset in Å / micrograph pixel size."""
    particles = pd.DataFrame(
        {
            "rlnCoordinateX": [1000.0, 2000.0],
            "rlnCoordinateY": [1500.0, 500.0],
            "rlnImageName": ["000001@Extract/job007/Movies/a.mrcs", "000002@Extract/job007/Movies/a.mrcs"],
            "rlnMicrographName": [MICS[0], MICS[0]],
            "rlnOriginXAngst": [3.54, -7.08],
            "rlnOriginYAngst": [-1.77, 0.0],
            "rlnClassNumber": [1, 1],
        }
    )
    _data_star(tmp_path / "run_it025_data.star", particles)
    table = read_coordinate_file(tmp_path / "run_it025_data.star", pixel_size=1.77)
    assert table["micrograph"].tolist() == ["20170629_00021_frameImage"] * 2
    np.testing.assert_allclose(table["x"], [1000.0 - 2.0, 2000.0 + 4.0])
    np.testing.assert_allclose(table["y"], [1500.0 + 1.0, 500.0])
    with pytest.raises(InputError, match=r"micrographs\.pixel_size"):
        read_coordinate_file(tmp_path / "run_it025_data.star")


def test_relion30_data_star_origins_in_pixels(tmp_path):
    particles = pd.DataFrame(
        {
            "rlnMicrographName": ["Movies/a.mrc"],
            "rlnCoordinateX": [100.0],
            "rlnCoordinateY": [200.0],
            "rlnOriginX": [2.5],
            "rlnOriginY": [-3.0],
        }
    )
    starfile.write(particles, tmp_path / "run_data.star")
    table = read_coordinate_file(tmp_path / "run_data.star", pixel_size=1.0)
    assert table[["x", "y"]].values.tolist() == [[97.5, 203.0]]


def _cryosparc_particles(path, names: list[str], xy: list[tuple[float, float]], shape=(3838, 3710)) -> None:
    """cryoSPARC's own writer: fractions of (rows, columns), micrograph paths with the <uid>_ prefix."""
    dataset = Dataset.allocate(
        len(names),
        [
            ("location/micrograph_uid", "<u8"),
            ("location/exp_group_id", "<u4"),
            ("location/micrograph_path", "O"),
            ("location/micrograph_shape", "<u4", (2,)),
            ("location/center_x_frac", "<f4"),
            ("location/center_y_frac", "<f4"),
        ],
    )
    dataset["location/micrograph_path"] = np.array(names, dtype=object)
    dataset["location/micrograph_shape"] = [shape] * len(names)
    dataset["location/center_x_frac"] = [p[0] / shape[1] for p in xy]
    dataset["location/center_y_frac"] = [p[1] / shape[0] for p in xy]
    dataset.save(path)


CS_NAMES = [
    "J3/motioncorrected/012345678901234567890_20170629_00021_frameImage_patch_aligned_doseweighted.mrc",
    "J3/motioncorrected/012345678901234567891_20170629_00023_frameImage_patch_aligned_doseweighted.mrc",
]


@pytest.mark.parametrize(
    "keys",
    [
        ["20170629_00021_frameImage", "20170629_00023_frameImage"],  # the movies' names (e.g. RELION's MotionCorr)
        [  # cryoSPARC's own dose-weighted micrographs, exported without the uid prefix
            "20170629_00021_frameImage_patch_aligned_doseweighted",
            "20170629_00023_frameImage_patch_aligned_doseweighted",
        ],
    ],
)
def test_cryosparc_cs_labels_match_the_users_micrograph_names(tmp_path, keys):
    _cryosparc_particles(tmp_path / "P1_J20_picked_particles.cs", CS_NAMES, [(1000.0, 2000.0), (35.5, 3000.25)])
    labels = read_labels([tmp_path / "P1_J20_picked_particles.cs"], keys, **label_params(CS_DEFAULTS))
    assert labels["micrograph"].tolist() == keys
    np.testing.assert_allclose(labels[["x", "y"]], [[1000.0, 2000.0], [35.5, 3000.25]], atol=1e-3)


def test_csparc2star_labels_with_uid_prefix_and_suffix(tmp_path):
    particles = pd.DataFrame(
        {
            "rlnMicrographName": [name.split("/")[-1] for name in CS_NAMES],
            "rlnCoordinateX": [1000.0, 35.5],
            "rlnCoordinateY": [2000.0, 3000.25],
        }
    )
    starfile.write({"optics": OPTICS, "particles": particles}, tmp_path / "particles_from_cryosparc.star")
    keys = ["20170629_00021_frameImage", "20170629_00023_frameImage"]
    labels = read_labels([tmp_path / "particles_from_cryosparc.star"], keys, **label_params(CS_DEFAULTS))
    assert labels.values.tolist() == [[keys[0], 1000.0, 2000.0], [keys[1], 35.5, 3000.25]]
    # Without the suffix setting the names stay unknown, and the error lists them.
    with pytest.raises(InputError, match="20170629_00021_frameImage_patch_aligned_doseweighted"):
        read_labels([tmp_path / "particles_from_cryosparc.star"], keys, name_suffixes=[])


def test_twins_and_thumbnails_in_a_glob_are_warned_about(tmp_path):
    keys = ["a_patch_aligned", "a_patch_aligned_doseweighted", "b_patch_aligned_doseweighted", "c_thumb_@1x"]
    warnings = twin_warnings(keys)
    assert len(warnings) == 2
    assert "1 micrograph(s) both dose-weighted and not, e.g. a_patch_aligned_doseweighted" in warnings[0]
    assert "c_thumb_@1x" in warnings[1]
    assert twin_warnings(["a_patch_aligned_doseweighted", "b_patch_aligned_doseweighted"]) == []


def test_manualpick_node_with_an_explicit_star_format_and_another_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    micrographs = discover_micrographs(_micrographs_ctf_star(tmp_path))
    node = _manualpick_node(tmp_path, {MICS[0]: [(10.0, 20.0)]})
    renamed = tmp_path / "picks.node"
    (tmp_path / node).rename(renamed)
    labels = load_checked_labels(micrographs, [renamed], {"fmt": "star"})
    assert labels.values.tolist() == [["20170629_00021_frameImage", 10.0, 20.0]]
