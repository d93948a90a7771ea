"""Apply the chosen threshold to the candidates and write the picks for RELION, cryoSPARC and EMAN.

Combined files: particles.star, particles.csv, particles_topaz.txt; per micrograph:
micrographs/NAME.star and micrographs/NAME.box (EMAN); for RELION: relion/<micrograph path>_pickflow.star
(with relion/coords_suffix_pickflow.star) and coordinate_files.star; for cryoSPARC: particles.cs. STAR files name each micrograph
by its path as the input named it. Coordinates are in pixels of the full-size micrographs. By hand:
    python scripts/picks.py results/pick/threshold.json OUTDIR --candidates results/pick/candidates/*.csv
"""

import json
import logging
from pathlib import Path

import pandas as pd

from pickflow.atomic import write_json
from pickflow.cli import config_parser, entry
from pickflow.config import box_size, load_config
from pickflow.coordinates import read_table, write_box, write_csv, write_star, write_topaz
from pickflow.cryosparc import write_particles_cs
from pickflow.inputs import discover_micrographs
from pickflow.micrographs import read_shape
from pickflow.overview import overview_micrographs, unusual_pick_counts
from pickflow.relion import write_relion_picks

log = logging.getLogger("pickflow.picks")


def run(candidates: list[str], threshold: str, outputs: dict, box: int, micrographs: dict[str, str]) -> None:
    """``micrographs`` maps every micrograph key to its path as the input named it."""
    choice = json.loads(Path(threshold).read_text())
    # One candidate batch at a time: only the picks above the threshold are kept in memory.
    kept = []
    for path in candidates:
        batch = read_table(path)
        kept.append(batch[batch["score"] >= choice["threshold"]])
    picks = pd.concat(kept, ignore_index=True).sort_values(["micrograph", "score"], ascending=[True, False])
    named = picks.assign(micrograph=picks["micrograph"].map(micrographs))
    write_star(named, outputs["star"])
    write_relion_picks(picks, micrographs, outputs["relion"], outputs["coordinate_files"])
    shapes = {key: read_shape(micrographs[key]) for key in picks["micrograph"].unique()}
    write_particles_cs(picks, micrographs, shapes, outputs["cs"])
    write_csv(picks, outputs["csv"])
    write_topaz(picks, outputs["topaz"])
    per_mic = Path(outputs["per_micrograph"])
    per_mic.mkdir(parents=True, exist_ok=True)
    counts = picks.groupby("micrograph").size().reindex(sorted(micrographs), fill_value=0)  # zero-pick micrographs too
    for key, group in picks.groupby("micrograph"):
        write_star(named.loc[group.index], per_mic / f"{key}.star")
        write_box(group, per_mic / f"{key}.box", box)
    unusual = unusual_pick_counts(counts.to_dict())
    summary = {
        "threshold": choice["threshold"],
        "threshold_mode": choice["mode"],
        "threshold_reason": choice["reason"],
        "n_micrographs": int(counts.size),
        "n_picks": len(picks),
        "picks_per_micrograph": counts.to_dict(),
        "unusual_pick_counts": unusual,
        "overview_micrographs": overview_micrographs(counts.to_dict(), unusual),
        "box_size": box,
    }
    write_json(outputs["summary"], summary)
    log.info(
        "%d picks on %d micrographs at threshold %.3f (%s)",
        len(picks),
        counts.size,
        choice["threshold"],
        choice["mode"],
    )
    for kind in ("few", "many"):
        if unusual[kind]:
            log.warning("%d micrographs with unusually %s picks: %s", len(unusual[kind]), kind, " ".join(unusual[kind]))
    if len(picks) == 0:
        log.warning("no particles picked: use class weights (train.class_weights) or lower the initial learning rate")


def parser():
    p = config_parser(__doc__)
    p.add_argument("threshold")
    p.add_argument("outdir")
    p.add_argument("--candidates", nargs="+", required=True)
    p.add_argument("--micrographs", help="micrographs.path of the run (default: the config's)")
    return p


def _from_args(a) -> dict:
    out = Path(a.outdir)
    outputs = {
        "star": out / "particles.star",
        "csv": out / "particles.csv",
        "topaz": out / "particles_topaz.txt",
        "per_micrograph": out / "micrographs",
        "summary": out / "summary.json",
        "relion": out / "relion",
        "coordinate_files": out / "coordinate_files.star",
        "cs": out / "particles.cs",
    }
    config = load_config(a.config)
    found = discover_micrographs(a.micrographs or config["micrographs"]["path"])
    return {
        "candidates": a.candidates,
        "threshold": a.threshold,
        "outputs": outputs,
        "box": box_size(config),
        "micrographs": {key: str(path) for key, path in found.items()},
    }


if __name__ == "__main__":
    entry(
        run,
        parser(),
        _from_args,
        globals().get("snakemake"),
        lambda s: {
            "candidates": list(s.input.candidates),
            "threshold": s.input.threshold,
            "outputs": dict(s.output.items()),
            "box": s.params.box_size,
            "micrographs": dict(s.params.micrographs),
        },
    )
