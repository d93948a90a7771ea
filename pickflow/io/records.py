"""The files the workflow's steps pass to each other, one typed record each, with its read and write.

========================  ==========================================  ===================================
record                    file                                        written by
========================  ==========================================  ===================================
:class:`Split`            ``results/split/split.json``                the split step
:class:`Folds`            ``results/cv/folds.json``                   the folds step
:class:`CrossValidation`  ``results/cv/best.json``                    the cv_aggregate step
:class:`TrainSummary`     ``results/train/summary.json`` (and         the train step
                          ``results/cv/<value>/fold<k>/summary.json``)
:class:`Threshold`        ``results/pick/threshold.json``             the threshold step
:class:`PickSummary`      ``results/picks/summary.json``              the picks step
========================  ==========================================  ===================================

Each is a frozen dataclass: ``Record.read(path)`` and ``record.write(path)`` (atomic) are the only places
that know the JSON layout, which is the one these files had before the records: results of earlier runs
read. A missing or unknown key, or a value of the wrong type, is an :class:`~pickflow.errors.InputError`
naming the file and the key. A key may be absent only where its field has a default (noted on the field).
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from ..errors import InputError
from .atomic import write_json

PathLike = str | os.PathLike[str]


class Record:
    """Base of the records: JSON conversion by the fields' types, and read/write."""

    @classmethod
    def read(cls, path: PathLike) -> Self:
        """The record in the JSON file ``path``."""
        try:
            data = json.loads(Path(path).read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc}); delete it and run the step that writes it") from None
        return cls.from_json(data, str(path))

    def write(self, path: PathLike) -> None:
        """Write the record as indented JSON, atomically."""
        write_json(path, self.to_json())

    @classmethod
    def from_json(cls, data: Any, source: str = "record", key: str = "") -> Self:
        """The record from parsed JSON; ``source`` (the file) and ``key`` (where in it) name a bad key."""
        return cls(**_fields_from_json(cls, data, source, key))

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON values, keys in the fields' order."""
        return {f.name: _to_json(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def _fields_from_json(tp: Any, value: Any, source: str, key: str) -> dict[str, Any]:
    """The constructor arguments of dataclass ``tp`` from the JSON object ``value``."""
    if not isinstance(value, dict):
        raise InputError(f"{source}: {_where(key)} should be an object, not {value!r}")
    hints = typing.get_type_hints(tp)
    fields = {f.name: f for f in dataclasses.fields(tp)}
    for name, f in fields.items():
        if name not in value and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InputError(
                f"{source}: missing key '{_join(key, name)}'; was it written by another pickflow version? "
                "Run the step that writes it again"
            )
    unknown = [k for k in value if k not in fields]
    if unknown:
        raise InputError(
            f"{source}: unknown key '{_join(key, unknown[0])}' (a {tp.__name__} has {', '.join(fields)}); "
            "was it written by another pickflow version? Run the step that writes it again"
        )
    return {name: _from_json(hints[name], item, source, _join(key, name)) for name, item in value.items()}


def _from_json(tp: Any, value: Any, source: str, key: str) -> Any:
    """``value`` converted to type ``tp``; ``key`` is the dotted key of ``value`` in ``source``."""
    if tp is Any:
        return value
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _from_json(inner, value, source, key)
    if isinstance(tp, type) and issubclass(tp, Record):
        return tp.from_json(value, source, key)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return tp(**_fields_from_json(tp, value, source, key))
    if origin is list:
        if not isinstance(value, list):
            raise InputError(f"{source}: {_where(key)} should be a list, not {value!r}")
        return [_from_json(args[0], item, source, f"{key}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise InputError(f"{source}: {_where(key)} should be an object, not {value!r}")
        return {k: _from_json(args[1], item, source, _join(key, k)) for k, item in value.items()}
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, float) and value.is_integer():
        return int(value)  # a count that went through a float column
    if isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
        return value
    raise InputError(f"{source}: {_where(key)} should be {_KINDS.get(tp, tp.__name__)}, not {value!r}")


_KINDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _where(key: str) -> str:
    return f"key '{key}'" if key else "the top level"


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _to_json(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {k: _to_json(item) for k, item in value.items()}
    return value


# ---------------------------------------------------------------------------------------------------------------
# split and cross-validation


@dataclass(frozen=True)
class LabelCounts:
    """Labeled particles on the training and on the test micrographs."""

    train: int
    test: int


@dataclass(frozen=True, kw_only=True)
class Split(Record):
    """``split.json``: the labeled micrographs held out for testing and those trained on.

    A split written by hand for ``pickflow train --split`` needs only ``train`` and ``test``."""

    seed: int | None = None
    test_fraction: float | None = None
    train: list[str]
    test: list[str]
    labels: LabelCounts | None = None


@dataclass(frozen=True)
class Fold:
    """One cross-validation fold: the micrographs it trains on and the held-out ones it evaluates."""

    train: list[str]
    test: list[str]


@dataclass(frozen=True)
class Folds(Record):
    """``folds.json``: the cross-validation folds over the split's training micrographs."""

    k: int
    seed: int
    label_counts: dict[str, int]
    folds: list[Fold]


TIE_RULE = "highest fold-mean metric; ties: the value listed first, then the earliest epoch"


@dataclass(frozen=True)
class CrossValidation(Record):
    """``best.json``: the value and epoch count cross-validation chose.

    On disk the mean and standard deviation are named after the metric (``ap_mean``, ``ap_sd``)."""

    parameter: str
    value: Any  # as listed in cv.values (number or string)
    value_key: str  # the value as in output paths
    epoch: int
    metric: str
    mean: float  # fold mean of the metric at (value, epoch)
    sd: float | None  # over folds; None with one fold
    folds: int
    values: list[Any]
    tie_rule: str = TIE_RULE

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        named = {f"{self.metric}_mean": data.pop("mean"), f"{self.metric}_sd": data.pop("sd")}
        at = list(data).index("metric") + 1
        return dict([*list(data.items())[:at], *named.items(), *list(data.items())[at:]])

    @classmethod
    def from_json(cls, data: Any, source: str = "record", key: str = "") -> Self:
        if isinstance(data, dict) and isinstance(data.get("metric"), str):
            metric, data = data["metric"], dict(data)
            for part in ("mean", "sd"):
                if f"{metric}_{part}" not in data:
                    raise InputError(f"{source}: missing key '{_join(key, f'{metric}_{part}')}'")
                data[part] = data.pop(f"{metric}_{part}")
        return super().from_json(data, source, key)


# ---------------------------------------------------------------------------------------------------------------
# training


@dataclass(frozen=True)
class ModelInit:
    """The weights training started from (``train.init``)."""

    init: str  # scratch | general | a path
    path: str | None  # the model file (None: random weights)
    sha256: str | None


SCRATCH = ModelInit("scratch", None, None)


@dataclass(frozen=True)
class Minibatch:
    size: int
    unit: str  # crops, or "<side>-px patches"


@dataclass(frozen=True)
class Provenance:
    """What produced a result (``pickflow.report.provenance.collect``)."""

    date: str
    versions: dict[str, str | None]
    git_commit: str | None
    hardware: dict[str, Any]


@dataclass(frozen=True)
class TrainSummary(Record):
    """``summary.json`` of a training run: the epoch kept, the priors and loss used, the settings
    (``TrainConfig.from_dict(summary.config)`` reads them back), and where it ran."""

    best_epoch: int
    init: ModelInit
    selection_metric: str  # the metric that chose best_epoch, or "last epoch"
    pi: float
    p_obs: float
    loss: str
    loss_fell_back_to_pn: bool
    class_weights: bool
    precision: str  # fp32 | bf16
    minibatch: Minibatch
    receptive_field: int
    train_micrographs: list[str]
    eval_micrographs: list[str]
    n_train_labels: int
    config: dict[str, Any]  # the TrainConfig as dataclasses.asdict wrote it
    pseudo_labels: list[int] = field(default_factory=list)  # added in each self-training round
    cv_choice: CrossValidation | None = None  # the final training after cross-validation: what it chose
    provenance: Provenance | None = None  # where and with what it ran (the train step adds it)


# ---------------------------------------------------------------------------------------------------------------
# threshold and picks


@dataclass(frozen=True)
class ThresholdChoice:
    """A picking threshold, how it was chosen (``pick.threshold.mode``) and why."""

    threshold: float
    mode: str
    reason: str


@dataclass(frozen=True)
class HeldOut:
    """Particle-level statistics of the candidates on the held-out labels (``evaluation.summarize``)."""

    n_labels: int
    n_picks: int
    average_precision: float
    best_f1: float
    best_f1_threshold: float | None
    best_f1_precision: float
    best_f1_recall: float
    matching_radius: float
    expected_picks: int
    recall_at_expected: float


@dataclass(frozen=True)
class AtThreshold:
    """The precision-recall curve's point at the chosen threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float
    n_picks: int
    implied_precision: float


@dataclass(frozen=True)
class Threshold(Record):
    """``threshold.json``: the threshold chosen and the held-out statistics. Without held-out labels
    ``held_out`` and ``at_threshold`` are None (``{}`` on disk)."""

    threshold: float
    mode: str
    reason: str
    test_micrographs: list[str]
    held_out: HeldOut | None
    at_threshold: AtThreshold | None
    note: str

    @property
    def choice(self) -> ThresholdChoice:
        return ThresholdChoice(self.threshold, self.mode, self.reason)

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        return {k: ({} if k in _EMPTY_AS_NONE and v is None else v) for k, v in data.items()}

    @classmethod
    def from_json(cls, data: Any, source: str = "record", key: str = "") -> Self:
        if isinstance(data, dict):
            data = {k: (None if k in _EMPTY_AS_NONE and v == {} else v) for k, v in data.items()}
        return super().from_json(data, source, key)


_EMPTY_AS_NONE = ("held_out", "at_threshold")


@dataclass(frozen=True)
class UnusualPickCounts:
    """Micrographs with unusually few or many picks (``overview.unusual_pick_counts``)."""

    median: float
    robust_sd: float
    low: float
    high: float
    few: list[str]
    many: list[str]


@dataclass(frozen=True)
class PickSummary(Record):
    """``results/picks/summary.json``: the threshold applied and the picks of every micrograph."""

    threshold: float
    threshold_mode: str
    threshold_reason: str
    n_micrographs: int
    n_picks: int
    picks_per_micrograph: dict[str, int]
    unusual_pick_counts: UnusualPickCounts
    overview_micrographs: list[str]
    box_size: int
