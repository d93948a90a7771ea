"""Cross-validation folds over the training micrographs of the split (never the test micrographs),
stratified by label count, seeded. By hand:
    python scripts/folds.py results/labels/labels.csv results/split/split.json OUT.json [--config config.yaml]
"""

import json
from pathlib import Path

from pickflow.atomic import write_json
from pickflow.cli import config_parser, entry
from pickflow.config import load_config
from pickflow.coordinates import read_table
from pickflow.crossval import make_folds


def run(labels: str, split: str, output: str, folds: int, seed: int) -> None:
    train = json.loads(Path(split).read_text())["train"]
    counts = read_table(labels)["micrograph"].value_counts()
    label_counts = {name: int(counts.get(name, 0)) for name in train}
    write_json(
        output, {"k": folds, "seed": seed, "label_counts": label_counts, "folds": make_folds(label_counts, folds, seed)}
    )


def parser():
    p = config_parser(__doc__)
    p.add_argument("labels")
    p.add_argument("split")
    p.add_argument("output")
    return p


def _from_args(a) -> dict:
    cv = load_config(a.config)["cv"]
    return {"labels": a.labels, "split": a.split, "output": a.output, "folds": cv["folds"], "seed": cv["seed"]}


if __name__ == "__main__":
    entry(
        run,
        parser(),
        _from_args,
        globals().get("snakemake"),
        lambda s: {"labels": s.input.labels, "split": s.input.split, "output": s.output[0], **s.params.folds},
    )
