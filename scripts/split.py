"""Split the labeled micrographs into training and test sets (by micrograph, seeded). By hand:
python scripts/split.py results/labels/labels.csv OUT.json [--config config.yaml]
"""

from pickflow.atomic import write_json
from pickflow.cli import config_parser, entry
from pickflow.config import load_config
from pickflow.coordinates import read_table
from pickflow.split import train_test_split


def run(labels: str, output: str, test_fraction: float, seed: int) -> None:
    write_json(output, train_test_split(read_table(labels), test_fraction, seed))


def parser():
    p = config_parser(__doc__)
    p.add_argument("labels")
    p.add_argument("output")
    return p


def _from_args(a) -> dict:
    split = load_config(a.config)["split"]
    return {"labels": a.labels, "output": a.output, "test_fraction": split["test_fraction"], "seed": split["seed"]}


if __name__ == "__main__":
    entry(
        run,
        parser(),
        _from_args,
        globals().get("snakemake"),
        lambda s: {"labels": s.input.labels, "output": s.output[0], **s.params.split},
    )
