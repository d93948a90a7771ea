"""The record of a run: summary table, training diagnostics and provenance, as reStructuredText for
the Snakemake report's front page (and the diagnostics as JSON, also written to the log). By hand:
    python scripts/report_summary.py --train-metrics results/train/metrics.csv --train-summary results/train/summary.json \
        --threshold results/pick/threshold.json --picks results/picks/summary.json --labels results/labels/labels.csv \
        --split results/split/split.json --outdir results/report [--cv-best results/cv/best.json] [--config config.yaml]
"""

import json
import logging
from pathlib import Path

import pandas as pd
import yaml

from pickflow.atomic import write_json, write_text
from pickflow.cli import config_parser, entry
from pickflow.coordinates import read_table
from pickflow.diagnostics import diagnose
from pickflow.provenance import collect

log = logging.getLogger("pickflow.report")


def _json(path: str | None) -> dict | None:
    return json.loads(Path(path).read_text()) if path else None


def _table(rows: list[tuple[str, str]]) -> str:
    lines = [".. list-table::", "   :widths: 30 70", ""]
    for key, value in rows:
        lines += [f"   * - {key}", f"     - {value}"]
    return "\n".join(lines) + "\n"


def _unusual(unusual: dict, counts: dict) -> str:
    """The micrographs flagged for unusually few or many picks, with their counts, or 'none'."""
    parts = []
    for kind, comparison, bound in (("few", "fewer", unusual["low"]), ("many", "more", unusual["high"])):
        if unusual[kind]:
            names = ", ".join(f"{name} ({counts[name]})" for name in unusual[kind])
            parts.append(f"{len(unusual[kind])} with {comparison} than {bound:.0f} picks: {names}")
    return "; ".join(parts) or f"none (median {unusual['median']:.0f} picks, robust sd {unusual['robust_sd']:.1f})"


def summary_rows(inputs: dict, config: dict) -> list[tuple[str, str]]:
    train, threshold, picks = _json(inputs["train_summary"]), _json(inputs["threshold"]), _json(inputs["picks"])
    labels, split, cv = read_table(inputs["labels"]), _json(inputs["split"]), _json(inputs.get("cv_best"))
    counts = labels["micrograph"].value_counts()
    held = threshold.get("held_out") or {}
    cfg = train["config"]
    rows = [
        ("Micrographs picked", f"{picks['n_micrographs']}"),
        (
            "Labeled micrographs (labels)",
            f"{counts.size} ({len(labels)}): training {len(split['train'])} "
            f"({int(counts.reindex(split['train']).sum())}), test {len(split['test'])} ({int(counts.reindex(split['test']).sum())})",
        ),
        (
            "Model and loss",
            f"{cfg['model']['name']} ({cfg['model']['units']} units), {train['loss']}"
            + (" (fell back to PN)" if train["loss_fell_back_to_pn"] else "")
            + f"; pi = {train['pi']:.4f}, p_obs = {train['p_obs']:.4f}",
        ),
        (
            "Training budget",
            f"{cfg['epochs']} epochs x {cfg['epoch_size']} updates x {train['minibatch']['size']} {train['minibatch']['unit']}, seed {cfg['seed']}",
        ),
    ]
    if cv:
        sd = f" ± {cv[cv['metric'] + '_sd']:.3f}" if cv.get(cv["metric"] + "_sd") is not None else ""
        rows.append(
            (
                "Cross-validation",
                f"{cv['parameter']} = {cv['value']} chosen among {cv['values']} at epoch {cv['epoch']} "
                f"({cv['metric']} {cv[cv['metric'] + '_mean']:.3f}{sd} over {cv['folds']} folds)",
            )
        )
    rows += [
        ("Epoch used", f"{train['best_epoch']} ({train['selection_metric']})"),
        ("Threshold", f"{threshold['threshold']:.3f} ({threshold['mode']}: {threshold['reason']})"),
        (
            "Particles picked",
            f"{picks['n_picks']} ({picks['n_picks'] / max(picks['n_micrographs'], 1):.1f} per micrograph)",
        ),
        ("Micrographs with unusual pick counts", _unusual(picks["unusual_pick_counts"], picks["picks_per_micrograph"])),
    ]
    if held:
        rows.append(
            (
                "Held-out particle AP / best F1",
                f"{held['average_precision']:.3f} / {held['best_f1']:.3f} on {len(threshold['test_micrographs'])} "
                "test micrographs (precision against partial labels is pessimistic)",
            )
        )
    return rows


def run(inputs: dict, outputs: dict, config: dict, particle_diameter_px: float) -> None:
    metrics = pd.read_csv(inputs["train_metrics"])
    train, picks = _json(inputs["train_summary"]), _json(inputs["picks"])
    findings = diagnose(metrics, train, particle_diameter_px, picks["n_picks"])
    for finding in findings:
        log.warning("%s (%s)", finding["message"], finding["evidence"])
    write_json(outputs["diagnostics"], findings)
    provenance = collect()
    parts = ["Summary", "-------", "", _table(summary_rows(inputs, config)), "Diagnostics", "-----------", ""]
    parts += [f"* **{f['message']}** {f['evidence']}." for f in findings] or [
        "No problem found in the training curves."
    ]
    parts += [
        "",
        "Provenance",
        "----------",
        "",
        _table(
            [
                ("Date", provenance["date"]),
                ("pickflow commit", str(provenance["git_commit"])),
                ("Training hardware", json.dumps(train["provenance"]["hardware"])),
                ("Report hardware", json.dumps(provenance["hardware"])),
                ("Versions", ", ".join(f"{k} {v}" for k, v in provenance["versions"].items() if v)),
            ]
        ),
        "Configuration::",
        "",
    ]
    parts += ["    " + line for line in yaml.safe_dump(config, sort_keys=False).splitlines()]
    write_text(outputs["summary"], "\n".join(parts) + "\n")


def parser():
    p = config_parser(__doc__)
    for name in ("train-metrics", "train-summary", "threshold", "picks", "labels", "split", "outdir"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--cv-best")
    return p


def _from_args(a) -> dict:
    from pickflow.config import load_config, particle_radius_px

    config = load_config(a.config)
    inputs = {
        k.replace("-", "_"): getattr(a, k.replace("-", "_"))
        for k in ("train-metrics", "train-summary", "threshold", "picks", "labels", "split", "cv-best")
    }
    out = Path(a.outdir)
    return {
        "inputs": inputs,
        "outputs": {"summary": out / "summary.rst", "diagnostics": out / "diagnostics.json"},
        "config": config,
        "particle_diameter_px": 2 * particle_radius_px(config),
    }


if __name__ == "__main__":
    entry(
        run,
        parser(),
        _from_args,
        globals().get("snakemake"),
        lambda s: {
            "inputs": {k: (v if isinstance(v, str) else (v[0] if v else None)) for k, v in s.input.items()},
            "outputs": dict(s.output.items()),
            "config": s.params.config,
            "particle_diameter_px": s.params.particle_diameter_px,
        },
    )
