"""Convert the labeled coordinates into the preprocessed pixel frame (one table for all).

Output columns: micrograph, x, y (full-size pixels), x_pre, y_pre (preprocessed pixels)."""

from __future__ import annotations

import json
from pathlib import Path

from ..io.atomic import atomic_path
from ..io.coordinates import read_labels


def convert_labels(coordinates: list[str], meta: list[str], output: str, settings: dict) -> None:
    """``settings``: keyword arguments of read_labels (pickflow.workflow.config.label_params)."""
    frames: dict[str, list[float]] = {}  # micrograph: its scale, [y, x]
    for path in meta:
        info = json.loads(Path(path).read_text())
        frames[info["micrograph"]] = info["scale"]
    labels = read_labels(coordinates, frames.keys(), **settings)  # every row names a key of frames (or InputError)
    micrograph = labels["micrograph"]
    labels["x_pre"] = labels["x"] / micrograph.map({name: sx for name, (_, sx) in frames.items()})
    labels["y_pre"] = labels["y"] / micrograph.map({name: sy for name, (sy, _) in frames.items()})
    with atomic_path(output) as tmp:
        labels.sort_values(["micrograph", "y", "x"]).to_csv(tmp, index=False, float_format="%.3f")
