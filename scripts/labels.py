"""Convert the labeled coordinates into the preprocessed pixel frame (one table for all).

Output columns: micrograph, x, y (full-size pixels), x_pre, y_pre (preprocessed pixels). By hand:
    python scripts/labels.py OUT.csv --coordinates FILE... --meta results/preprocessed/*.json
"""

import json
from pathlib import Path

from pickflow.atomic import atomic_path
from pickflow.cli import config_parser, entry
from pickflow.config import label_params, load_config
from pickflow.coordinates import read_labels


def run(coordinates: list[str], meta: list[str], output: str, settings: dict) -> None:
    """``settings``: keyword arguments of read_labels (pickflow.config.label_params)."""
    frames = {}
    for path in meta:
        info = json.loads(Path(path).read_text())
        frames[info["micrograph"]] = info["scale"]
    labels = read_labels(coordinates, frames.keys(), **settings)
    scale = labels["micrograph"].map(frames)
    labels["x_pre"] = labels["x"] / scale.map(lambda s: s[1])
    labels["y_pre"] = labels["y"] / scale.map(lambda s: s[0])
    with atomic_path(output) as tmp:
        labels.sort_values(["micrograph", "y", "x"]).to_csv(tmp, index=False, float_format="%.3f")


def parser():
    p = config_parser(__doc__)
    p.add_argument("output")
    p.add_argument("--coordinates", nargs="+", required=True)
    p.add_argument("--meta", nargs="+", required=True, help="preprocessing JSON of every labeled micrograph")
    return p


if __name__ == "__main__":
    entry(
        run,
        parser(),
        lambda a: {
            "coordinates": a.coordinates,
            "meta": a.meta,
            "output": a.output,
            "settings": label_params(load_config(a.config)),
        },
        globals().get("snakemake"),
        lambda s: {
            "coordinates": list(s.input.coordinates),
            "meta": list(s.input.meta),
            "output": s.output[0],
            "settings": dict(s.params.labels),
        },
    )
