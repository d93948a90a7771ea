"""The preprocessed micrographs on disk: ``NAME.json`` (the record the workflow tracks) and ``NAME.mrc`` (a cache).

The preprocess job writes both. The JSON holds the statistics, the source micrograph, the settings and the
identity (what the result follows from); the MRC holds the pixels. Jobs read the pixels through
``read_preprocessed``, which regenerates a missing MRC from the JSON's source and settings, identical to the
first one. So a scratch purge of the MRC files costs only their recomputation, where and when they are needed,
and reruns no job: Snakemake tracks the JSON alone.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..io.atomic import write_json
from ..io.micrographs import micrograph_key, read_micrograph, write_mrc
from .image import preprocess_image

log = logging.getLogger("pickflow.preprocess.preprocessed")


def write_preprocessed(
    micrograph: str | os.PathLike[str], out_json: str | os.PathLike[str], params: dict, identity: str | None = None
) -> None:
    """Preprocess ``micrograph`` into ``out_json`` and the MRC beside it. ``params``:
    pickflow.workflow.config.preprocess_params; ``identity``: what the result follows from (see preprocessing_identity in
    workflow/rules/common.smk)."""
    image = read_micrograph(micrograph)
    result, meta = preprocess_image(image, micrograph_key(micrograph), params)
    meta.update(source=str(micrograph), identity=identity, params=params)
    write_mrc(mrc_path(out_json), result, meta["pixel_size"])
    write_json(out_json, meta)


def mrc_path(path: str | os.PathLike[str]) -> Path:
    """The MRC of a preprocessed micrograph, given its JSON or MRC path."""
    return Path(path).with_suffix(".mrc")


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON record of a preprocessed micrograph, given its JSON or MRC path."""
    record = Path(path).with_suffix(".json")
    try:
        return json.loads(record.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{record}: cannot read this preprocessed micrograph's record ({exc}). "
            "Delete it and run the workflow again to preprocess the micrograph again."
        ) from exc


def read_preprocessed(path: str | os.PathLike[str]) -> np.ndarray:
    """The pixels of a preprocessed micrograph (its JSON or MRC path), regenerating a purged MRC first."""
    mrc = mrc_path(path)
    if not mrc.exists():
        meta = read_meta(mrc)
        if "params" not in meta:
            raise InputError(
                f"{mrc} is missing and {mrc.with_suffix('.json')} was written by an older pickflow that did not record "
                "how to regenerate it: delete the .json too and run the workflow again."
            )
        log.info("%s was purged: regenerating it from %s", mrc, meta["source"])
        image, _ = preprocess_image(read_micrograph(meta["source"]), meta["micrograph"], meta["params"])
        write_mrc(mrc, image, meta["pixel_size"])
    return read_micrograph(mrc)
