"""Preprocessing figures: a few micrographs before/after, and normalization statistics of all of them (read from
the scoring batches' results/pick/normalization/*.json, one list per batch). By hand:
    python scripts/plot_preprocessing.py OUTDIR --raw a.mrc b.mrc --preprocessed results/preprocessed/a.mrc ... \
        --normalization results/pick/normalization/*.json
"""

import json
from pathlib import Path

from pickflow import plots
from pickflow.cli import config_parser, entry
from pickflow.micrographs import micrograph_key, read_micrograph


def run(raw: list[str], preprocessed: list[str], normalization: list[str], outputs: dict) -> None:
    panels = [
        (micrograph_key(r), read_micrograph(r), read_micrograph(p)) for r, p in zip(raw, preprocessed, strict=True)
    ]
    plots.preprocessing_thumbnails(panels, outputs["thumbnails"])
    statistics = [entry for path in normalization for entry in json.loads(Path(path).read_text())]
    plots.normalization_statistics(statistics, outputs["normalization"])


def parser():
    p = config_parser(__doc__)
    p.add_argument("outdir")
    p.add_argument("--raw", nargs="+", required=True)
    p.add_argument("--preprocessed", nargs="+", required=True)
    p.add_argument("--normalization", nargs="+", required=True)
    return p


if __name__ == "__main__":
    entry(
        run,
        parser(),
        lambda a: {
            "raw": a.raw,
            "preprocessed": a.preprocessed,
            "normalization": a.normalization,
            "outputs": {k: Path(a.outdir) / f"{k}.png" for k in ("thumbnails", "normalization")},
        },
        globals().get("snakemake"),
        lambda s: {
            "raw": list(s.input.raw),
            "preprocessed": list(s.input.preprocessed),
            "normalization": list(s.input.normalization),
            "outputs": dict(s.output.items()),
        },
    )
