"""Merging a group's scoring-batch results: the same rows and statistics, byte for byte, and a clear error on
tables that do not match."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pickflow.errors import InputError
from pickflow.steps.merge_scores import merge_scores
from pickflow.steps.score import COLUMNS


def _batch(tmp_path, name: str, rows: list[tuple]) -> tuple[str, str]:
    table = tmp_path / f"{name}.csv"
    pd.DataFrame(rows, columns=COLUMNS).to_csv(table, index=False, float_format="%.3f")
    stats = tmp_path / f"{name}.json"
    stats.write_text(json.dumps([{"micrograph": r[0], "normalization": {"mu": 0.0}, "output": {}} for r in rows]))
    return str(table), str(stats)


def test_merged_candidates_and_statistics_are_the_batches_in_order(tmp_path):
    a = _batch(tmp_path, "h0", [("m1", 10.0, 20.0, 5.0, 10.0, 1.25), ("m1", 30.5, 2.0, 15.25, 1.0, -3.5)])
    empty = _batch(tmp_path, "h10", [])
    b = _batch(tmp_path, "h11", [("m2", 1.0, 2.0, 0.5, 1.0, 0.125)])
    out = {"candidates": str(tmp_path / "g.csv"), "normalization": str(tmp_path / "g.json")}
    merge_scores([a[0], empty[0], b[0]], [a[1], empty[1], b[1]], out)
    merged = (tmp_path / "g.csv").read_bytes()
    parts = [open(p, "rb").read() for p in (a[0], empty[0], b[0])]
    assert merged == parts[0] + b"".join(p.split(b"\n", 1)[1] for p in parts[1:])
    assert pd.read_csv(out["candidates"])["micrograph"].tolist() == ["m1", "m1", "m2"]
    assert [s["micrograph"] for s in json.loads((tmp_path / "g.json").read_text())] == ["m1", "m1", "m2"]


def test_a_batch_with_other_columns_is_an_error_naming_it_and_writes_nothing(tmp_path):
    a = _batch(tmp_path, "h0", [("m1", 10.0, 20.0, 5.0, 10.0, 1.25)])
    odd = tmp_path / "h1.csv"
    odd.write_text("micrograph,x,y,score\nm2,1,2,0.5\n")
    out = {"candidates": str(tmp_path / "g.csv"), "normalization": str(tmp_path / "g.json")}
    with pytest.raises(InputError, match=r"h1\.csv: its columns"):
        merge_scores([a[0], str(odd)], [a[1], a[1]], out)
    assert not (tmp_path / "g.csv").exists() and not (tmp_path / "g.json").exists()
