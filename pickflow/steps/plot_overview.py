"""Overview of many micrographs with their picks; micrographs with unusually few or many picks are framed in red.
The micrographs shown are those listed in results/picks/summary.json (``overview_micrographs``)."""

from __future__ import annotations

import json
from pathlib import Path

from .. import plots
from ..coordinates import read_table
from ..micrographs import micrograph_key, read_micrograph
from ..records import PickSummary


def plot_overview(summary: str, picks: str, preprocessed: list[str], output: str, radius: float) -> None:
    unusual = PickSummary.read(summary).unusual_pick_counts
    table = read_table(picks)
    panels = []
    for path in preprocessed:
        name = micrograph_key(path)
        panels.append(
            {
                "name": name,
                "image": read_micrograph(path),
                "scale": json.loads(Path(path).with_suffix(".json").read_text())["scale"],
                "picks": table[table["micrograph"] == name],
            }
        )
    plots.micrograph_overview(panels, radius, (unusual.low, unusual.high), output)
