"""What several benchmarks share: paths, the bundled demo as raw MRCs, and a description of the machine."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pandas as pd

from pickflow.io.micrographs import read_micrograph, write_mrc
from tests.workflow.helpers import DEMO, REPO

RESULTS = REPO / "benchmarks" / "results"
WORK = REPO / "benchmarks" / "work"  # generated data and scratch, never committed

# The bundled EMPIAR-10028 demo (data/empiar10028): pixel size of its PNGs, particle radius, particles per micrograph.
DEMO_PIXEL_SIZE, DEMO_RADIUS_A, DEMO_PARTICLES = 5.36, 150.0, 150.0
DEMO_TRUTH_NOTE = "the expert's partial labels (precision underestimated alike for every picker)"


def strip_extension(table: pd.DataFrame) -> pd.DataFrame:
    """``micrograph`` as the key pickflow uses: the file name without .mrc / .png."""
    return table.assign(micrograph=table["micrograph"].astype(str).str.replace(r"\.(mrc|png)$", "", regex=True))


def demo_raw(folder: Path, limit: int | None = None) -> list[Path]:
    """The demo PNGs written once as raw MRCs into ``folder`` (the first ``limit`` of them); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = []
    for png in sorted((DEMO / "micrographs").glob("*.png"))[:limit]:
        target = folder / f"{png.stem}.mrc"
        if not target.exists():
            write_mrc(target, read_micrograph(png), DEMO_PIXEL_SIZE)
        raw.append(target)
    return raw


def demo_labels() -> pd.DataFrame:
    """The demo's expert labels (full-size pixels), keyed by micrograph name without extension."""
    return strip_extension(pd.read_csv(DEMO / "coordinates.csv"))


def demo_dataset(folder: Path) -> dict:
    """The demo as a benchmark data set: raw MRCs, labels that are also the truth, pixel size, radius, particles."""
    labels = demo_labels()
    return {
        "raw": demo_raw(folder),
        "labels": labels,
        "truth": labels,
        "truth_note": DEMO_TRUTH_NOTE,
        "pixel": DEMO_PIXEL_SIZE,
        "radius_a": DEMO_RADIUS_A,
        "particles": DEMO_PARTICLES,
    }


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    names = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return next(names, platform.processor() or platform.machine())


def machine() -> str:
    """One line for a result's ``machine`` field."""
    return f"{os.cpu_count()} cores, {cpu_model()}, CPU only"
