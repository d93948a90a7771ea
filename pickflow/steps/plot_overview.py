"""Overview of many micrographs with their picks; micrographs with unusually few or many picks are framed in red.
The micrographs shown are those listed in results/picks/summary.json (``overview_micrographs``)."""

from __future__ import annotations

from ..io.coordinates import read_table
from ..io.micrographs import micrograph_key
from ..io.records import PickSummary
from ..preprocess.preprocessed import read_meta, read_preprocessed
from ..report import plots


def plot_overview(summary: str, picks: str, preprocessed: list[str], output: str, radius: float) -> None:
    unusual = PickSummary.read(summary).unusual_pick_counts
    table = read_table(picks)
    panels = []
    for path in preprocessed:
        name = micrograph_key(path)
        panels.append(
            {
                "name": name,
                "image": read_preprocessed(path),
                "scale": read_meta(path)["scale"],
                "picks": table[table["micrograph"] == name],
            }
        )
    plots.micrograph_overview(panels, radius, (unusual.low, unusual.high), output)
