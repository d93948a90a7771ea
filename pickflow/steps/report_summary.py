"""The record of a run: summary table, training diagnostics and provenance, as reStructuredText for
the Snakemake report's front page (and the diagnostics as JSON, also written to the log)."""

from __future__ import annotations

import json
import logging
from typing import TypeVar

import pandas as pd
import yaml

from ..io.atomic import write_json, write_text
from ..io.coordinates import read_table
from ..io.records import CrossValidation, PickSummary, Record, Split, Threshold, TrainSummary, UnusualPickCounts
from ..report.diagnostics import diagnose
from ..report.provenance import collect
from ..training.loop import TrainConfig

log = logging.getLogger("pickflow.report")
R = TypeVar("R", bound=Record)


def _table(rows: list[tuple[str, str]]) -> str:
    lines = [".. list-table::", "   :widths: 30 70", ""]
    for key, value in rows:
        lines += [f"   * - {key}", f"     - {value}"]
    return "\n".join(lines) + "\n"


def _unusual(unusual: UnusualPickCounts, counts: dict[str, int]) -> str:
    """The micrographs flagged for unusually few or many picks, with their counts, or 'none'."""
    parts = []
    for names, comparison, bound in ((unusual.few, "fewer", unusual.low), (unusual.many, "more", unusual.high)):
        if names:
            listed = ", ".join(f"{name} ({counts[name]})" for name in names)
            parts.append(f"{len(names)} with {comparison} than {bound:.0f} picks: {listed}")
    return "; ".join(parts) or f"none (median {unusual.median:.0f} picks, robust sd {unusual.robust_sd:.1f})"


def _labels_row(labels: pd.DataFrame, split: Split | None) -> tuple[str, str]:
    counts = labels["micrograph"].value_counts()
    if split is None:
        return (
            "Labeled micrographs (labels)",
            f"{counts.size} ({len(labels)}), all held out: they only evaluate the picks and set the threshold",
        )
    return (
        "Labeled micrographs (labels)",
        f"{counts.size} ({len(labels)}): training {len(split.train)} "
        f"({int(counts.reindex(split.train).sum())}), test {len(split.test)} ({int(counts.reindex(split.test).sum())})",
    )


def _training_rows(train: TrainSummary, cv: CrossValidation | None) -> list[tuple[str, str]]:
    cfg = TrainConfig.from_dict(train.config)
    rows = [
        (
            "Model and loss",
            f"{cfg.model.name} ({cfg.model.units} units), {train.loss}"
            + (" (fell back to PN)" if train.loss_fell_back_to_pn else "")
            + f"; pi = {train.pi:.4f}, p_obs = {train.p_obs:.4f}",
        ),
        (
            "Training budget",
            f"{cfg.epochs} epochs x {cfg.epoch_size} updates x {train.minibatch.size} {train.minibatch.unit}, seed {cfg.seed}",
        ),
    ]
    if cv:
        sd = f" ± {cv.sd:.3f}" if cv.sd is not None else ""
        rows.append(
            (
                "Cross-validation",
                f"{cv.parameter} = {cv.value} chosen among {cv.values} at epoch {cv.epoch} "
                f"({cv.metric} {cv.mean:.3f}{sd} over {cv.folds} folds)",
            )
        )
    rows.append(("Epoch used", f"{train.best_epoch} ({train.selection_metric})"))
    return rows


def _read(record: type[R], path: str | None) -> R | None:
    """The record in ``path``, or None for an input this run does not have."""
    return record.read(path) if path else None


def summary_rows(inputs: dict, config: dict, picking_model: str) -> list[tuple[str, str]]:
    train, split = _read(TrainSummary, inputs["train_summary"]), _read(Split, inputs["split"])
    threshold, picks = Threshold.read(inputs["threshold"]), PickSummary.read(inputs["picks"])
    cv = _read(CrossValidation, inputs.get("cv_best"))
    held = threshold.held_out
    rows = [("Micrographs picked", f"{picks.n_micrographs}")]
    if inputs["labels"]:
        rows.append(_labels_row(read_table(inputs["labels"]), split))
    else:
        rows.append(("Labeled micrographs (labels)", "none (labels.coordinates is null)"))
    rows.append(("Model that picked", picking_model + ("" if train else "; no training in this run")))
    if train:
        rows += _training_rows(train, cv)
    rows += [
        ("Threshold", f"{threshold.threshold:.3f} ({threshold.mode}: {threshold.reason})"),
        (
            "Particles picked",
            f"{picks.n_picks} ({picks.n_picks / max(picks.n_micrographs, 1):.1f} per micrograph)",
        ),
        ("Micrographs with unusual pick counts", _unusual(picks.unusual_pick_counts, picks.picks_per_micrograph)),
    ]
    if held:
        rows.append(
            (
                "Held-out particle AP / best F1",
                f"{held.average_precision:.3f} / {held.best_f1:.3f} on {len(threshold.test_micrographs)} "
                "test micrographs (against partial labels: below the true values)",
            )
        )
        rows.append(
            (
                "Held-out recall at the expected count",
                f"{held.recall_at_expected:.3f}: the fraction of the held-out labels among the "
                f"{held.expected_picks} best candidates (expected particles x test micrographs). It does not "
                "depend on how many particles were labeled, if they were chosen at random: it estimates the true "
                "recall, and the true precision, at that many picks",
            )
        )
    return rows


def _diagnostics(
    inputs: dict, train: TrainSummary | None, particle_diameter_px: float, picks: PickSummary
) -> list[dict]:
    """Findings from the training curves; none without training."""
    if not inputs["train_metrics"] or train is None:
        return []
    return diagnose(pd.read_csv(inputs["train_metrics"]), train, particle_diameter_px, picks.n_picks)


def write_report_summary(
    inputs: dict, outputs: dict, config: dict, particle_diameter_px: float, picking_model: str
) -> None:
    train, picks = _read(TrainSummary, inputs["train_summary"]), PickSummary.read(inputs["picks"])
    findings = _diagnostics(inputs, train, particle_diameter_px, picks)
    for finding in findings:
        log.warning("%s (%s)", finding["message"], finding["evidence"])
    write_json(outputs["diagnostics"], findings)
    provenance = collect()
    parts = [
        "Summary",
        "-------",
        "",
        _table(summary_rows(inputs, config, picking_model)),
        "Diagnostics",
        "-----------",
    ]
    if train:
        parts += [""] + (
            [f"* **{f['message']}** {f['evidence']}." for f in findings] or ["No problem found in the training curves."]
        )
    else:
        parts += ["", f"No training in this run: {picking_model} picked."]
    training_hardware = (
        json.dumps(train.provenance.hardware) if train and train.provenance else "no training in this run"
    )
    parts += [
        "",
        "Provenance",
        "----------",
        "",
        _table(
            [
                ("Date", provenance["date"]),
                ("pickflow commit", str(provenance["git_commit"])),
                ("Training hardware", training_hardware),
                ("Report hardware", json.dumps(provenance["hardware"])),
                ("Versions", ", ".join(f"{k} {v}" for k, v in provenance["versions"].items() if v)),
            ]
        ),
        "Configuration::",
        "",
    ]
    parts += ["    " + line for line in yaml.safe_dump(config, sort_keys=False).splitlines()]
    write_text(outputs["summary"], "\n".join(parts) + "\n")
