"""Overview of many micrographs with their picks; micrographs with unusually few or many picks are framed in red.
The micrographs shown are those listed in results/picks/summary.json (``overview_micrographs``). By hand:
    python scripts/plot_overview.py results/picks/summary.json results/picks/particles.csv results/preprocessed \
        OUT.png [--config config.yaml]
"""

import json
from pathlib import Path

from pickflow import plots
from pickflow.cli import config_parser, entry
from pickflow.config import load_config, particle_radius_px
from pickflow.coordinates import read_table
from pickflow.micrographs import micrograph_key, read_micrograph


def run(summary: str, picks: str, preprocessed: list[str], output: str, radius: float) -> None:
    pick_summary = json.loads(Path(summary).read_text())
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
    unusual = pick_summary["unusual_pick_counts"]
    plots.micrograph_overview(panels, radius, (unusual["low"], unusual["high"]), output)


def parser():
    p = config_parser(__doc__)
    for name in ("summary", "picks", "preprocessed", "output"):
        p.add_argument(name)
    return p


def _from_args(a) -> dict:
    shown = json.loads(Path(a.summary).read_text())["overview_micrographs"]
    return {
        "summary": a.summary,
        "picks": a.picks,
        "preprocessed": [str(Path(a.preprocessed) / f"{name}.mrc") for name in shown],
        "output": a.output,
        "radius": particle_radius_px(load_config(a.config)),
    }


if __name__ == "__main__":
    entry(
        run,
        parser(),
        _from_args,
        globals().get("snakemake"),
        lambda s: {
            "summary": s.input.summary,
            "picks": s.input.picks,
            "preprocessed": list(s.input.preprocessed),
            "output": s.output[0],
            "radius": s.params.radius,
        },
    )
