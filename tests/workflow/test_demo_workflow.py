"""A real Snakemake run of the whole DAG on six demo micrographs, then what a rerun would do."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import starfile
import torch
from cryosparc.dataset import Dataset as CsDataset

from pickflow.io.micrographs import read_micrograph
from pickflow.models.modelfile import load_model
from pickflow.models.topaz import Picker
from pickflow.training.loop import Dataset, TrainConfig, evaluate, priors
from tests.workflow.helpers import DEMO_MICROGRAPHS, TINY_CONFIG, merge, planned_jobs, write_config

pytestmark = pytest.mark.workflow


def test_star_files_have_relion_columns_and_full_size_coordinates(run_dir):
    star = starfile.read(run_dir / "results/picks/particles.star")
    assert list(star.columns) == ["rlnMicrographName", "rlnCoordinateX", "rlnCoordinateY", "rlnAutopickFigureOfMerit"]
    # Micrographs are named by their path as micrographs.path named them (as RELION names them).
    assert set(star["rlnMicrographName"]) == {f"data/micrographs/{m.name}" for m in DEMO_MICROGRAPHS[:6]}
    # Picks are in pixels of the 1024x1024 input micrographs, not of the 256x256 preprocessed ones.
    assert star["rlnCoordinateX"].between(0, 1023).all() and star["rlnCoordinateY"].between(0, 1023).all()
    assert star["rlnCoordinateX"].max() > 512 and star["rlnCoordinateY"].max() > 512
    threshold = json.loads((run_dir / "results/pick/threshold.json").read_text())
    assert (star["rlnAutopickFigureOfMerit"] >= threshold["threshold"]).all()
    per_mic = starfile.read(run_dir / "results/picks/micrographs" / f"{DEMO_MICROGRAPHS[0].stem}.star")
    assert len(per_mic) == int((star["rlnMicrographName"] == f"data/micrographs/{DEMO_MICROGRAPHS[0].name}").sum())


def test_relion_coordinate_tree_and_node_hold_every_pick(run_dir):
    star = starfile.read(run_dir / "results/picks/particles.star")
    node = starfile.read(run_dir / "results/picks/coordinate_files.star")
    assert node["rlnMicrographName"].tolist() == [f"data/micrographs/{m.name}" for m in DEMO_MICROGRAPHS[:6]]
    assert node["rlnMicrographCoordinates"].tolist() == [
        f"results/picks/relion/data/micrographs/{m.stem}_pickflow.star" for m in DEMO_MICROGRAPHS[:6]
    ]
    per_mic = pd.concat([starfile.read(run_dir / p) for p in node["rlnMicrographCoordinates"]], ignore_index=True)
    columns = ["rlnMicrographName", "rlnCoordinateX", "rlnCoordinateY"]
    pd.testing.assert_frame_equal(
        per_mic[columns].sort_values(columns, ignore_index=True), star[columns].sort_values(columns, ignore_index=True)
    )


def test_every_output_format_holds_the_same_picks(run_dir):
    csv = pd.read_csv(run_dir / "results/picks/particles.csv")
    topaz = pd.read_csv(run_dir / "results/picks/particles_topaz.txt", sep="\t")
    assert list(topaz.columns) == ["image_name", "x_coord", "y_coord", "score"]
    assert len(csv) == len(topaz) == len(starfile.read(run_dir / "results/picks/particles.star"))
    summary = json.loads((run_dir / "results/picks/summary.json").read_text())
    name = DEMO_MICROGRAPHS[1].stem
    box = np.loadtxt(run_dir / "results/picks/micrographs" / f"{name}.box", ndmin=2)
    mine = csv[csv["micrograph"] == name]
    assert len(box) == len(mine) == summary["picks_per_micrograph"][name]
    assert (box[:, 2] == summary["box_size"]).all()
    np.testing.assert_allclose(np.sort(box[:, 0] + box[:, 2] / 2), np.sort(mine["x"]), atol=0.51)
    cs = CsDataset.load(run_dir / "results/picks/particles.cs")
    assert len(cs) == len(csv)
    in_cs = cs.query({"location/micrograph_path": f"data/micrographs/{name}.png"})
    np.testing.assert_allclose(
        np.sort(in_cs["location/center_x_frac"] * in_cs["location/micrograph_shape"][:, 1]),
        np.sort(mine["x"]),
        atol=1e-2,
    )


def test_training_records_metrics_provenance_and_best_epoch(run_dir):
    metrics = pd.read_csv(run_dir / "results/train/metrics.csv")
    epochs = TINY_CONFIG["train"]["epochs"]
    assert sorted(metrics["split"].unique()) == ["test", "train"]
    assert len(metrics) == 2 * epochs
    summary = json.loads((run_dir / "results/train/summary.json").read_text())
    test_rows = metrics[metrics["split"] == "test"]
    assert summary["best_epoch"] == int(test_rows.loc[test_rows["ap"].idxmax(), "epoch"])
    assert summary["config"]["seed"] == 0 and summary["config"]["epochs"] == epochs
    assert (
        summary["provenance"]["versions"]["torch"] == torch.__version__.split("+")[0]
        or summary["provenance"]["versions"]["torch"]
    )
    assert summary["provenance"]["hardware"]["device"] == "cpu"
    assert not (run_dir / "results/train/resume.pt").exists()


def test_trained_model_beats_untrained_on_held_out_particles(run_dir):
    summary = json.loads((run_dir / "results/train/summary.json").read_text())
    labels = pd.read_csv(run_dir / "results/labels/labels.csv")
    names = summary["eval_micrographs"]
    data = Dataset(
        names,
        [read_micrograph(run_dir / f"results/preprocessed/{n}.mrc") for n in names],
        [labels[labels["micrograph"] == n][["y_pre", "x_pre"]].to_numpy(float) for n in names],
    )
    cfg = TrainConfig.from_dict(
        {k: v for k, v in summary["config"].items() if k != "model"} | {"model": summary["config"]["model"]}
    )
    pi, p_obs, _ = priors(cfg, data)
    positives = data.positives(cfg.label_radius)
    trained, _ = load_model(run_dir / "results/train/model.pt", torch.device("cpu"))
    torch.manual_seed(0)
    untrained = Picker(trained.config).eval()
    ap_trained = evaluate(trained, data, positives, cfg, pi, p_obs, torch.device("cpu"))["ap"]
    ap_untrained = evaluate(untrained, data, positives, cfg, pi, p_obs, torch.device("cpu"))["ap"]
    assert ap_trained > ap_untrained + 0.25, (ap_trained, ap_untrained)


def test_plots_are_pngs(run_dir):
    for name in (
        "training",
        "precision_recall",
        "picks_per_micrograph",
        "score_histogram",
        "overlays",
        "overview",
        "preprocessing",
        "normalization",
    ):
        assert (run_dir / f"results/plots/{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_nothing_reruns_when_nothing_changed(run_dir):
    assert planned_jobs(run_dir) == {}


def test_changing_a_picking_parameter_reruns_only_picking(run_dir):
    config = write_config(run_dir, merge(TINY_CONFIG, {"pick": {"nms_radius": 120}}), "changed.yaml")
    jobs = planned_jobs(run_dir, "--configfile", str(config))
    # The scoring batches also carry the normalization statistics, so their figure is made again.
    assert jobs == {
        "score": 2,
        "merge_scores": 1,
        "threshold": 1,
        "picks": 1,
        "plots": 1,
        "plot_overview": 1,
        "plot_preprocessing": 1,
        "report_summary": 1,
        "all": 1,
    }


def test_changing_the_threshold_rule_reruns_only_thresholding(run_dir):
    config = write_config(
        run_dir, merge(TINY_CONFIG, {"pick": {"threshold": {"mode": "value", "value": 1.5}}}), "changed.yaml"
    )
    assert planned_jobs(run_dir, "--configfile", str(config)) == {
        "threshold": 1,
        "picks": 1,
        "plots": 1,
        "plot_overview": 1,
        "report_summary": 1,
        "all": 1,
    }


def test_adding_a_micrograph_preprocesses_only_that_micrograph(run_dir):
    new = run_dir / "data/micrographs" / DEMO_MICROGRAPHS[7].name
    shutil.copy(DEMO_MICROGRAPHS[7], new)
    try:
        jobs = planned_jobs(run_dir)
    finally:
        new.unlink()
    # The new micrograph also appears in the normalization statistics figure.
    assert jobs == {
        "preprocess": 1,
        "score": 1,
        "merge_scores": 1,
        "threshold": 1,
        "picks": 1,
        "plots": 1,
        "plot_overview": 1,
        "plot_preprocessing": 1,
        "report_summary": 1,
        "all": 1,
    }


def test_changing_training_reruns_training_but_not_preprocessing(run_dir):
    config = write_config(run_dir, merge(TINY_CONFIG, {"train": {"learning_rate": 0.001}}), "changed.yaml")
    jobs = planned_jobs(run_dir, "--configfile", str(config))
    assert jobs["train"] == 1 and "preprocess" not in jobs and "labels" not in jobs


def test_starting_from_the_general_model_rescales_and_retrains(run_dir):
    config = write_config(run_dir, merge(TINY_CONFIG, {"train": {"init": "general"}}), "general.yaml")
    jobs = planned_jobs(run_dir, "--configfile", str(config))
    assert jobs["train"] == 1 and jobs["preprocess"] == 6  # 24 px per particle diameter instead of downsample 4


def test_starting_from_an_earlier_model_file_retrains_at_the_same_scale(run_dir):
    earlier = run_dir / "earlier.pt"
    earlier.write_bytes((run_dir / "results/train/model.pt").read_bytes())
    config = write_config(run_dir, merge(TINY_CONFIG, {"train": {"init": str(earlier)}}), "earlier.yaml")
    jobs = planned_jobs(run_dir, "--configfile", str(config))
    assert jobs["train"] == 1 and "preprocess" not in jobs
