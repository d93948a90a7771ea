"""Train a positive-unlabeled picker and keep the model of its best epoch.

Trains on the split's training micrographs, evaluates every epoch on its test micrographs, and
writes the best-epoch model, the last-epoch checkpoint, per-epoch metrics and a summary (config,
priors, versions, hardware). A restarted job resumes from the last finished epoch. By hand:
    python scripts/train.py --labels results/labels/labels.csv --split results/split/split.json \
        --micrographs results/preprocessed/*.mrc --outdir results/train [--config config.yaml]
"""

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pickflow.atomic import atomic_path, write_json
from pickflow.cli import config_parser, entry
from pickflow.config import load_config, train_params
from pickflow.coordinates import read_table
from pickflow.micrographs import micrograph_key, read_micrograph
from pickflow.provenance import collect
from pickflow.scoring import resolve_device, save_model, set_threads
from pickflow.training import Dataset, TrainConfig, train

log = logging.getLogger("pickflow.train")


def load_dataset(names: list[str], paths: dict[str, str], labels: pd.DataFrame) -> Dataset:
    groups = {k: g[["y_pre", "x_pre"]].to_numpy(float) for k, g in labels.groupby("micrograph")}
    return Dataset(names, [read_micrograph(paths[n]) for n in names], [groups.get(n, np.empty((0, 2))) for n in names])


def run(
    micrographs: list[str],
    labels: str,
    split: str,
    outputs: dict,
    params: dict,
    device: str,
    threads: int,
    fold: int | None = None,
    cv_best: str | None = None,
) -> None:
    set_threads(threads)
    dev = resolve_device(device)
    if cv_best:  # final training after cross-validation: the chosen value, for the chosen number of epochs
        choice = json.loads(Path(cv_best).read_text())
        params = {**params["variants"][choice["value_key"]], "epochs": choice["epoch"], "keep_epoch": "last"}
        log.info("cross-validation chose %s = %s and %d epochs", choice["parameter"], choice["value"], choice["epoch"])
    cfg = TrainConfig.from_dict(params)
    table = read_table(labels)
    sets = json.loads(Path(split).read_text())
    if fold is not None:
        sets = sets["folds"][fold]
    paths = {micrograph_key(p): p for p in micrographs}
    train_data = load_dataset(sets["train"], paths, table)
    eval_data = load_dataset(sets["test"], paths, table) if sets["test"] else None
    resume = Path(outputs["metrics"]).with_name("resume.pt")
    model, metrics, summary = train(cfg, train_data, eval_data, dev, resume)
    last_state = summary.pop("last_state")
    if "model" in outputs:
        save_model(outputs["model"], model, {"train_summary": summary})
        model.load_state_dict(last_state)
        save_model(outputs["last"], model, {"train_summary": summary})
    with atomic_path(outputs["metrics"]) as tmp:
        metrics.to_csv(tmp, index=False)
    write_json(
        outputs["summary"],
        {
            **summary,
            "cv_choice": json.loads(Path(cv_best).read_text()) if cv_best else None,
            "provenance": collect(dev),
        },
    )
    resume.unlink(missing_ok=True)
    log.info("kept epoch %d (%s)", summary["best_epoch"], summary["selection_metric"])


def parser():
    p = config_parser(__doc__)
    p.add_argument("--labels", required=True)
    p.add_argument("--split", required=True)
    p.add_argument("--micrographs", nargs="+", required=True)
    p.add_argument("--outdir", required=True)
    return p


def _from_args(a) -> dict:
    config = load_config(a.config)
    out = Path(a.outdir)
    outputs = {
        "model": out / "model.pt",
        "last": out / "last.pt",
        "metrics": out / "metrics.csv",
        "summary": out / "summary.json",
    }
    return {
        "micrographs": a.micrographs,
        "labels": a.labels,
        "split": a.split,
        "outputs": outputs,
        "params": train_params(config),
        "device": config["train"]["device"],
        "threads": config["train"]["threads"],
    }


def _from_job(s) -> dict:
    outputs = {k: s.output[k] for k in ("model", "last", "metrics", "summary") if k in s.output.keys()}
    return {
        "micrographs": list(s.params.micrographs),
        "labels": s.input.labels,
        "split": s.input.split,
        "outputs": outputs,
        "params": s.params.train,
        "device": s.params.device,
        "threads": s.threads,
        "fold": int(s.wildcards.fold) if "fold" in s.wildcards.keys() else None,
        "cv_best": _single(s.input.get("cv_best")),
    }


def _single(files) -> str | None:
    """The one file of an optional named input (absent or empty: None)."""
    if not files:
        return None
    return files if isinstance(files, str) else files[0]


if __name__ == "__main__":
    entry(run, parser(), _from_args, globals().get("snakemake"), _from_job)
