"""Preprocess one micrograph: Fourier-crop downsampling, optional lowpass, normalization.

Writes a float32 MRC and a JSON of the statistics used. By hand:
    python scripts/preprocess.py MICROGRAPH OUT.mrc OUT.json [--config config.yaml]
"""

from pickflow.atomic import write_json
from pickflow.cli import config_parser, entry
from pickflow.config import load_config, preprocess_params
from pickflow.micrographs import micrograph_key, read_micrograph, write_mrc
from pickflow.preprocess import preprocess_image


def run(micrograph: str, out_mrc: str, out_json: str, params: dict, identity: str | None = None) -> None:
    image = read_micrograph(micrograph)
    key = micrograph_key(micrograph)
    result, meta = preprocess_image(image, key, params)
    meta["source"] = str(micrograph)
    meta["identity"] = identity  # what the output follows from (see preprocessing_identity in common.smk)
    write_mrc(out_mrc, result, meta["pixel_size"])
    write_json(out_json, meta)


def parser():
    p = config_parser(__doc__)
    p.add_argument("micrograph")
    p.add_argument("out_mrc")
    p.add_argument("out_json")
    return p


if __name__ == "__main__":
    entry(
        run,
        parser(),
        lambda a: {
            "micrograph": a.micrograph,
            "out_mrc": a.out_mrc,
            "out_json": a.out_json,
            "params": preprocess_params(load_config(a.config)),
        },
        globals().get("snakemake"),
        lambda s: {
            "micrograph": s.input.micrograph,
            "out_mrc": s.output.mrc,
            "out_json": s.output.json,
            "params": s.params.preprocess,
            "identity": s.params.identity,
        },
    )
