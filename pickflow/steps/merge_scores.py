"""Merge the results of a group of scoring batches into one candidates table and one list of normalization
statistics, so that the jobs reading every micrograph's results (threshold, picks, figures) list a few merged
files instead of thousands of batch files."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from ..io.atomic import atomic_path, write_json


def merge_candidate_tables(candidates: list[str], output: str) -> None:
    """Concatenate candidate CSVs (the score step's, one header each) byte for byte under their common header."""
    with atomic_path(output) as tmp, open(tmp, "wb") as merged:
        header: bytes | None = None
        for path in candidates:
            with open(path, "rb") as table:
                first = table.readline()
                if header is None:
                    header = first
                    merged.write(first)
                elif first != header:
                    raise InputError(
                        f"{path}: its columns ({first.decode().strip()}) differ from {candidates[0]}'s "
                        f"({header.decode().strip()}); delete results/pick/candidates/ and run again to rescore"
                    )
                for block in iter(lambda table=table: table.read(1 << 20), b""):
                    merged.write(block)


def merge_scores(candidates: list[str], normalization: list[str], outputs: dict) -> None:
    """One group's merged candidates (``outputs['candidates']``) and normalization statistics."""
    merge_candidate_tables(candidates, outputs["candidates"])
    statistics = [entry for path in normalization for entry in json.loads(Path(path).read_text())]
    write_json(outputs["normalization"], statistics)
