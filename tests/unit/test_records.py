"""Every record between the steps round-trips through its file, reads the layout the files had before the
records, and names the file and the key when one is missing, unknown or of the wrong type."""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, fields, replace

import pytest

from pickflow.errors import InputError
from pickflow.io.records import (
    SCRATCH,
    AtThreshold,
    CrossValidation,
    Fold,
    Folds,
    HeldOut,
    LabelCounts,
    Minibatch,
    ModelInit,
    PickSummary,
    Provenance,
    Split,
    Threshold,
    TrainSummary,
    UnusualPickCounts,
)
from pickflow.training.loop import TrainConfig

SPLIT = Split(seed=0, test_fraction=0.34, train=["a", "b"], test=["c"], labels=LabelCounts(train=30, test=12))
FOLDS = Folds(
    k=2, seed=1, label_counts={"a": 10, "b": 20}, folds=[Fold(train=["b"], test=["a"]), Fold(train=["a"], test=["b"])]
)
CV = CrossValidation(
    parameter="expected_particles",
    value=150,
    value_key="150",
    epoch=3,
    metric="ap",
    mean=0.61,
    sd=0.02,
    folds=2,
    values=[100, 150, 200.5],
)
HELD_OUT = HeldOut(
    n_labels=161,
    n_picks=2433,
    average_precision=0.65,
    best_f1=0.72,
    best_f1_threshold=-0.011,
    best_f1_precision=0.62,
    best_f1_recall=0.86,
    matching_radius=28.0,
    expected_picks=300,
    recall_at_expected=0.96,
)
AT = AtThreshold(threshold=-0.011, precision=0.62, recall=0.86, f1=0.72, n_picks=221, implied_precision=1.16)
THRESHOLD = Threshold(
    threshold=-0.011,
    mode="f1",
    reason="maximizes F1",
    test_micrographs=["c"],
    held_out=HELD_OUT,
    at_threshold=AT,
    note="partial labels",
)
SUMMARY = TrainSummary(
    best_epoch=2,
    init=ModelInit(init="general", path="/x/resnet8.pt", sha256="ab12"),
    selection_metric="ap",
    pi=0.066,
    p_obs=0.038,
    loss="GE-binomial",
    loss_fell_back_to_pn=False,
    class_weights=False,
    precision="bf16",
    minibatch=Minibatch(size=32, unit="crops"),
    receptive_field=71,
    train_micrographs=["a", "b"],
    eval_micrographs=["c"],
    n_train_labels=30,
    config=asdict(TrainConfig.from_dict({"expected_particles": 300, "epochs": 3, "model": {"name": "resnet8"}})),
    cv_choice=CV,
    provenance=Provenance(
        date="2026-12-01T20:38:55+00:00",
        versions={"pickflow": "0.1.0", "tifffile": None},
        git_commit=None,
        hardware={"host": "h", "cpu_count": 2},
    ),
)
PICKS = PickSummary(
    threshold=-0.011,
    threshold_mode="f1",
    threshold_reason="maximizes F1",
    n_micrographs=3,
    n_picks=7,
    picks_per_micrograph={"a": 3, "b": 4, "c": 0},
    unusual_pick_counts=UnusualPickCounts(median=3.0, robust_sd=1.0, low=0.0, high=6.0, few=[], many=[]),
    overview_micrographs=["a", "b", "c"],
    box_size=64,
)
NO_LABELS = Threshold(
    threshold=0.5, mode="value", reason="explicit", test_micrographs=[], held_out=None, at_threshold=None, note="-"
)
RECORDS = [
    SPLIT,
    FOLDS,
    CV,
    THRESHOLD,
    NO_LABELS,
    SUMMARY,
    replace(SUMMARY, init=SCRATCH, cv_choice=None),
    PICKS,
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_every_record_round_trips_through_its_file(tmp_path, record):
    path = tmp_path / "record.json"
    record.write(path)
    assert type(record).read(path) == record
    assert json.loads(path.read_text()) == record.to_json()  # plain JSON on disk


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_a_missing_key_names_the_file_and_the_key(tmp_path, record):
    data = record.to_json()
    first = next(f.name for f in fields(record) if f.default is MISSING and f.default_factory is MISSING)
    del data[first]
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=rf"{path}: missing key '{first}'"):
        type(record).read(path)


def test_nested_missing_unknown_and_mistyped_keys_are_named(tmp_path):
    path = tmp_path / "summary.json"
    data = SUMMARY.to_json()
    del data["minibatch"]["unit"]
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"summary.json: missing key 'minibatch.unit'"):
        TrainSummary.read(path)
    path.write_text(json.dumps({**SUMMARY.to_json(), "colour": "red"}))
    with pytest.raises(InputError, match=r"summary.json: unknown key 'colour'"):
        TrainSummary.read(path)
    path.write_text(json.dumps({**SUMMARY.to_json(), "best_epoch": "two"}))
    with pytest.raises(InputError, match=r"summary.json: key 'best_epoch' should be an integer, not 'two'"):
        TrainSummary.read(path)
    path.write_text("{not json")
    with pytest.raises(InputError, match=r"summary.json: not valid JSON"):
        TrainSummary.read(path)


def test_the_files_keep_the_layout_they_had():
    """The keys (and their order) of the files the steps wrote before the records, so earlier results read."""
    assert list(CV.to_json()) == [
        "parameter",
        "value",
        "value_key",
        "epoch",
        "metric",
        "ap_mean",
        "ap_sd",
        "folds",
        "values",
        "tie_rule",
    ]
    no_labels = NO_LABELS.to_json()
    assert no_labels["held_out"] == {} and no_labels["at_threshold"] == {}
    assert list(SUMMARY.to_json())[-2:] == ["cv_choice", "provenance"]
    assert SUMMARY.to_json()["init"] == {"init": "general", "path": "/x/resnet8.pt", "sha256": "ab12"}
    earlier_at = {**asdict(AT), "n_picks": 221.0}  # a float column in the curve wrote the count as 221.0
    assert (
        AtThreshold(**asdict(AT))
        == THRESHOLD.from_json({**THRESHOLD.to_json(), "at_threshold": earlier_at}).at_threshold
    )


def test_a_split_written_by_hand_needs_only_train_and_test(tmp_path):
    path = tmp_path / "split.json"
    path.write_text(json.dumps({"train": ["a"], "test": ["b"]}))
    assert Split.read(path) == Split(train=["a"], test=["b"])
