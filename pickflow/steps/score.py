"""Score preprocessed micrographs with a model and keep every candidate above a low threshold.

Candidates (micrograph, x, y in full-size pixels, x_pre, y_pre, score) let the threshold be changed later without
running the network again."""

from __future__ import annotations

import logging

import pandas as pd

from ..io.atomic import atomic_path, write_json
from ..io.micrographs import micrograph_key
from ..models.device import resolve_device, set_threads
from ..models.modelfile import load_model
from ..picking.extract import extract_candidates, resolve_method
from ..picking.scoring import score_image
from ..preprocess.preprocessed import read_meta, read_preprocessed
from ..progress import Progress

log = logging.getLogger("pickflow.score")
COLUMNS = ["micrograph", "x", "y", "x_pre", "y_pre", "score"]


def score_micrographs(
    model_path: str,
    micrographs: list[str],
    output: str,
    params: dict,
    device: str,
    threads: int,
    normalization: str | None = None,
) -> None:
    """Score ``micrographs`` (preprocessed MRC files, their JSON beside them); write their candidates to ``output``
    and, when given, their normalization statistics to ``normalization``, so that figures read one file per batch.
    ``params``: pickflow.workflow.config.pick_params."""
    set_threads(threads)
    dev = resolve_device(device)
    model, _ = load_model(model_path, dev)
    method = resolve_method(params["method"])
    tables, statistics = [], []
    progress = Progress(len(micrographs))
    for path in micrographs:
        key = micrograph_key(path)
        meta = read_meta(path)
        statistics.append({k: meta[k] for k in ("micrograph", "normalization", "output")})
        score = score_image(
            model, read_preprocessed(path), dev, params["stride"], params["tile"], params["average_symmetries"]
        )
        ys, xs, sc = extract_candidates(score, params)
        y_pre, x_pre = ys * params["stride"], xs * params["stride"]
        scale_y, scale_x = meta["scale"]
        tables.append(
            pd.DataFrame(
                {
                    "micrograph": key,
                    "x": x_pre * scale_x,
                    "y": y_pre * scale_y,
                    "x_pre": x_pre,
                    "y_pre": y_pre,
                    "score": sc,
                }
            )
        )
        log.info("micrograph %s: %s, %d candidates (%s)", progress.step(), key, len(sc), method)
    result = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=COLUMNS)
    with atomic_path(output) as tmp:
        result[COLUMNS].to_csv(tmp, index=False, float_format="%.3f")
    if normalization:
        write_json(normalization, statistics)
