"""Apply a threshold to the candidates and write the picks for RELION, cryoSPARC and EMAN.

Formats (``FORMATS``): ``star`` (particles.star and micrographs/NAME.star), ``relion`` (relion/<micrograph
path>_pickflow.star with relion/coords_suffix_pickflow.star, and coordinate_files.star), ``cs`` (particles.cs),
``csv`` (particles.csv), ``topaz`` (particles_topaz.txt), ``box`` (micrographs/NAME.box, EMAN). STAR files name each
micrograph by its path as the input named it; coordinates are in pixels of the full-size micrographs. summary.json
counts the picks of every micrograph."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..io.coordinates import read_table, write_box, write_csv, write_star, write_topaz
from ..io.cryosparc import write_particles_cs
from ..io.micrographs import read_shape
from ..io.records import PickSummary, Threshold, ThresholdChoice, UnusualPickCounts
from ..io.relion import write_relion_picks
from ..picking.overview import overview_micrographs, unusual_pick_counts

log = logging.getLogger("pickflow.picks")
FORMATS = ("star", "relion", "cs", "csv", "topaz", "box")


def output_paths(outdir: str | Path) -> dict[str, Path]:
    """The files of every format under ``outdir``, named as the workflow's ``picks`` rule names them."""
    out = Path(outdir)
    return {
        "star": out / "particles.star",
        "csv": out / "particles.csv",
        "topaz": out / "particles_topaz.txt",
        "per_micrograph": out / "micrographs",
        "summary": out / "summary.json",
        "relion": out / "relion",
        "coordinate_files": out / "coordinate_files.star",
        "cs": out / "particles.cs",
    }


def read_choice(path: str | Path) -> ThresholdChoice:
    """The threshold choice in threshold.json of the threshold step."""
    return Threshold.read(path).choice


def picks_above(candidates: list[str], threshold: float) -> pd.DataFrame:
    """The candidates scoring at least ``threshold``, by micrograph and falling score. One candidate batch at a time:
    only the picks are kept in memory."""
    kept = []
    for path in candidates:
        batch = read_table(path)
        kept.append(batch[batch["score"] >= threshold])
    return pd.concat(kept, ignore_index=True).sort_values(["micrograph", "score"], ascending=[True, False])


def write_format(fmt: str, picks: pd.DataFrame, outputs: dict, box: int, micrographs: dict[str, str]) -> None:
    """Write ``picks`` in format ``fmt`` (one of FORMATS) to its files in ``outputs``."""
    named = picks.assign(micrograph=picks["micrograph"].map(micrographs))
    per_mic = Path(outputs["per_micrograph"])
    if fmt in ("star", "box"):
        per_mic.mkdir(parents=True, exist_ok=True)
    if fmt == "star":
        write_star(named, outputs["star"])
        for key, group in picks.groupby("micrograph"):
            write_star(named.loc[group.index], per_mic / f"{key}.star")
    elif fmt == "box":
        for key, group in picks.groupby("micrograph"):
            write_box(group, per_mic / f"{key}.box", box)
    elif fmt == "relion":
        write_relion_picks(picks, micrographs, outputs["relion"], outputs["coordinate_files"])
    elif fmt == "cs":
        shapes = {key: read_shape(micrographs[key]) for key in picks["micrograph"].unique()}
        write_particles_cs(picks, micrographs, shapes, outputs["cs"])
    elif fmt == "csv":
        write_csv(picks, outputs["csv"])
    elif fmt == "topaz":
        write_topaz(picks, outputs["topaz"])
    else:
        raise ValueError(f"unknown picks format {fmt!r}: use one of {', '.join(FORMATS)}")


def write_picks(
    candidates: list[str],
    choice: ThresholdChoice,
    outputs: dict,
    box: int,
    micrographs: dict[str, str],
    formats: tuple[str, ...] = FORMATS,
) -> None:
    """Write the candidates scoring at least ``choice.threshold`` in ``formats`` and a summary.

    ``micrographs`` maps every micrograph key to its path as the input named it; ``choice`` holds the threshold, its
    mode and the reason for it (see read_choice)."""
    picks = picks_above(candidates, choice.threshold)
    unknown = sorted(set(picks["micrograph"]) - set(micrographs))
    if unknown:
        raise InputError(
            f"the candidates name {len(unknown)} micrographs that are not among the micrographs given "
            f"({', '.join(unknown[:5])}): name the full-size micrographs they were scored from"
        )
    for fmt in formats:
        write_format(fmt, picks, outputs, box, micrographs)
    counts = picks.groupby("micrograph").size().reindex(sorted(micrographs), fill_value=0)  # zero-pick micrographs too
    per_micrograph = {str(name): int(n) for name, n in counts.items()}
    unusual = unusual_pick_counts(per_micrograph)
    PickSummary(
        threshold=choice.threshold,
        threshold_mode=choice.mode,
        threshold_reason=choice.reason,
        n_micrographs=int(counts.size),
        n_picks=len(picks),
        picks_per_micrograph=per_micrograph,
        unusual_pick_counts=UnusualPickCounts(**unusual),
        overview_micrographs=overview_micrographs(per_micrograph, unusual),
        box_size=box,
    ).write(outputs["summary"])
    log.info(
        "%d picks on %d micrographs at threshold %.3f (%s)", len(picks), counts.size, choice.threshold, choice.mode
    )
    for kind in ("few", "many"):
        if unusual[kind]:
            log.warning("%d micrographs with unusually %s picks: %s", len(unusual[kind]), kind, " ".join(unusual[kind]))
    if len(picks) == 0:
        log.warning("no particles picked: use class weights (train.class_weights) or lower the initial learning rate")
