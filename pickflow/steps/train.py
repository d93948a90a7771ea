"""Train a positive-unlabeled picker and keep the model of its best epoch.

Trains on the split's training micrographs, evaluates every epoch on its test micrographs, and
writes the best-epoch model, the last-epoch checkpoint, per-epoch metrics and a summary (config,
priors, versions, hardware). A restarted job resumes from the last finished epoch."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.atomic import atomic_path
from ..io.coordinates import read_table
from ..io.micrographs import micrograph_key
from ..io.records import CrossValidation, Folds, Provenance, Split
from ..models.device import resolve_device, set_threads
from ..models.modelfile import save_model
from ..preprocess.preprocessed import read_preprocessed
from ..report.provenance import collect
from ..training.loop import Dataset, TrainConfig, train

log = logging.getLogger("pickflow.train")


def load_dataset(names: list[str], paths: dict[str, str], labels: pd.DataFrame) -> Dataset:
    groups = {k: g[["y_pre", "x_pre"]].to_numpy(float) for k, g in labels.groupby("micrograph")}
    return Dataset(
        names, [read_preprocessed(paths[n]) for n in names], [groups.get(n, np.empty((0, 2))) for n in names]
    )


def train_picker(
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
    choice = CrossValidation.read(cv_best) if cv_best else None
    if choice:  # final training after cross-validation: the chosen value, for the chosen number of epochs
        params = {**params["variants"][choice.value_key], "epochs": choice.epoch, "keep_epoch": "last"}
        log.info("cross-validation chose %s = %s and %d epochs", choice.parameter, choice.value, choice.epoch)
    cfg = TrainConfig.from_dict(params)
    table = read_table(labels)
    sets = Split.read(split) if fold is None else Folds.read(split).folds[fold]
    paths = {micrograph_key(p): p for p in micrographs}
    train_data = load_dataset(sets.train, paths, table)
    eval_data = load_dataset(sets.test, paths, table) if sets.test else None
    resume = Path(outputs["metrics"]).with_name("resume.pt")
    result = train(cfg, train_data, eval_data, dev, resume)
    summary = replace(result.summary, cv_choice=choice, provenance=Provenance(**collect(dev)))
    if "model" in outputs:
        save_model(outputs["model"], result.model, {"train_summary": summary.to_json()})
        result.model.load_state_dict(result.last_state)
        save_model(outputs["last"], result.model, {"train_summary": summary.to_json()})
    with atomic_path(outputs["metrics"]) as tmp:
        result.metrics.to_csv(tmp, index=False)
    summary.write(outputs["summary"])
    resume.unlink(missing_ok=True)
    log.info("kept epoch %d (%s)", summary.best_epoch, summary.selection_metric)
