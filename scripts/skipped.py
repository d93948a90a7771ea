"""Record the micrographs left out of the run by ``micrographs.on_error: skip`` (header check failed).

Under Snakemake the list comes from the parse-time check. By hand it lists every micrograph of the
config whose header check fails:
    python scripts/skipped.py OUT.json [--config config.yaml]
"""

from pickflow.atomic import write_json
from pickflow.cli import config_parser, entry
from pickflow.config import load_config
from pickflow.inputs import discover_micrographs, read_headers


def run(output: str, skipped: dict[str, str]) -> None:
    write_json(output, {"skipped": [{"micrograph": key, "reason": reason} for key, reason in skipped.items()]})


def parser():
    p = config_parser(__doc__)
    p.add_argument("output")
    return p


def _from_args(a) -> dict:
    micrographs = discover_micrographs(load_config(a.config)["micrographs"]["path"])
    return {"output": a.output, "skipped": read_headers(micrographs)[1]}


if __name__ == "__main__":
    entry(
        run,
        parser(),
        _from_args,
        globals().get("snakemake"),
        lambda s: {"output": s.output[0], "skipped": s.params.skipped},
    )
