"""Score a batch of preprocessed micrographs and keep every candidate above a low threshold.

Candidates (micrograph, x, y in full-size pixels, x_pre, y_pre, score) let the threshold be
changed later without running the network again. By hand:
    python scripts/score.py MODEL OUT.csv --micrographs results/preprocessed/a.mrc ... [--normalization STATS.json]
        [--config config.yaml]
"""

import json
import logging
from pathlib import Path

import pandas as pd

from pickflow.atomic import atomic_path, write_json
from pickflow.cli import config_parser, entry
from pickflow.config import load_config, pick_params
from pickflow.extract import extract_candidates, resolve_method
from pickflow.micrographs import micrograph_key, read_micrograph
from pickflow.progress import Progress
from pickflow.scoring import load_model, resolve_device, score_image, set_threads

log = logging.getLogger("pickflow.score")
COLUMNS = ["micrograph", "x", "y", "x_pre", "y_pre", "score"]


def run(
    model_path: str,
    micrographs: list[str],
    output: str,
    params: dict,
    device: str,
    threads: int,
    normalization: str | None = None,
) -> None:
    """Score ``micrographs``; write their candidates to ``output`` and, when given, their normalization statistics
    (from the preprocessing JSON files) to ``normalization``, so that figures read one file per batch."""
    set_threads(threads)
    dev = resolve_device(device)
    model, _ = load_model(model_path, dev)
    method = resolve_method(params["method"])
    tables, statistics = [], []
    progress = Progress(len(micrographs))
    for path in micrographs:
        key = micrograph_key(path)
        meta = json.loads(Path(path).with_suffix(".json").read_text())
        statistics.append({k: meta[k] for k in ("micrograph", "normalization", "output")})
        score = score_image(model, read_micrograph(path), dev, params["stride"], params["tile"])
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


def parser():
    p = config_parser(__doc__)
    p.add_argument("model")
    p.add_argument("output")
    p.add_argument("--micrographs", nargs="+", required=True, help="preprocessed MRC files (their .json beside them)")
    p.add_argument("--normalization", help="also write the micrographs' normalization statistics here (JSON)")
    return p


def _from_args(a) -> dict:
    config = load_config(a.config)
    return {
        "model_path": a.model,
        "micrographs": a.micrographs,
        "output": a.output,
        "normalization": a.normalization,
        "params": pick_params(config),
        "device": config["pick"]["device"],
        "threads": config["pick"]["threads"],
    }


if __name__ == "__main__":
    entry(
        run,
        parser(),
        _from_args,
        globals().get("snakemake"),
        lambda s: {
            "model_path": s.input.model,
            "micrographs": list(s.input.micrographs),
            "output": s.output.candidates,
            "normalization": s.output.normalization,
            "params": s.params.pick,
            "device": s.params.device,
            "threads": s.threads,
        },
    )
