"""Preprocessing figures: a few micrographs before/after, and normalization statistics of all of them (read from
the merged groups of scoring batches, results/pick/merged/normalization/*.json)."""

from __future__ import annotations

import json
from pathlib import Path

from ..io.micrographs import micrograph_key, read_micrograph
from ..preprocess.preprocessed import read_preprocessed
from ..report import plots


def plot_preprocessing(raw: list[str], preprocessed: list[str], normalization: list[str], outputs: dict) -> None:
    panels = [
        (micrograph_key(r), read_micrograph(r), read_preprocessed(p)) for r, p in zip(raw, preprocessed, strict=True)
    ]
    plots.preprocessing_thumbnails(panels, outputs["thumbnails"])
    statistics = [entry for path in normalization for entry in json.loads(Path(path).read_text())]
    plots.normalization_statistics(statistics, outputs["normalization"])
