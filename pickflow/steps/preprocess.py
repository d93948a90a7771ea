"""Preprocess one micrograph: Fourier-crop downsampling, optional lowpass, normalization; a float32 MRC and a JSON
of the statistics used."""

from __future__ import annotations

from ..atomic import write_json
from ..micrographs import micrograph_key, read_micrograph, write_mrc
from ..preprocess import preprocess_image


def preprocess_micrograph(
    micrograph: str, out_mrc: str, out_json: str, params: dict, identity: str | None = None
) -> None:
    """``params``: pickflow.config.preprocess_params; ``identity``: what the output follows from (see
    preprocessing_identity in common.smk)."""
    image = read_micrograph(micrograph)
    result, meta = preprocess_image(image, micrograph_key(micrograph), params)
    meta["source"] = str(micrograph)
    meta["identity"] = identity
    write_mrc(out_mrc, result, meta["pixel_size"])
    write_json(out_json, meta)
