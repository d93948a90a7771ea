"""The benchmark tables of README.md and benchmarks/README.md, generated from the JSON under benchmarks/results/.

Each table stands between two marker comments, ``<!-- table NAME: begin -->`` and ``<!-- table NAME: end -->``;
``python -m benchmarks.tables`` rewrites the text between them from the committed JSON, ``--check`` only says
which differ (exit status 1). tests/unit/test_benchmark_tables.py runs the check, so a figure typed into a README
by hand fails the tests. The benchmarks write their own markdown with the same functions.

Light on purpose (standard library only): the unit test imports it without torch.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
READMES = (REPO / "README.md", REPO / "benchmarks" / "README.md")
MARKER = re.compile(
    r"^(?P<indent>[ \t]*)<!-- table (?P<name>[\w-]+): begin -->\n(?P<body>.*?)^(?P=indent)<!-- table (?P=name): end -->",
    re.S | re.M,
)


# ------------------------------------------------------------------------------------------------ realistic.py
REALISTIC_LABELS = {
    "topaz_pretrained": "Topaz 0.3.20, its default pretrained start",
    "topaz_scratch": "Topaz 0.3.20, `--no-pretrained`",
    "topaz_general": "Topaz's general model (resnet16), no training",
    "pickflow_default": "pickflow defaults (`train.init: general`)",
    "pickflow_scratch": "pickflow, `train.init: scratch`",
    "pickflow_selftrain": "pickflow defaults + one self-training round (`train.self_training_rounds: 1`, 5 more epochs)",
    "pickflow_nolabel": "pickflow general model, no labels, no training",
    "pickflow_nolabel_sym8": "pickflow general model, no labels, no training, `pick.average_symmetries: true`",
    "pickflow_fulllabels": "pickflow defaults trained on every particle, at its true position (a ceiling)",
}


def realistic(table: dict) -> str:
    """The full table of benchmarks.realistic's summary (its rows and issue 15's targets)."""
    lines = [
        "| data set | picker | family | budget (epochs × updates × minibatch, lr) | AP (full truth), mean | "
        "AP per seed | spread | best F1 | recall of all candidates | training wall s | picking wall s (test set) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table["rows"]:
        b = r["budget"]
        shown = (
            "none (no training)"
            if b is None
            else f"{b['epochs']} × {b['epoch_size']} × {b['minibatch_size'] or '1 patch'}, {b['learning_rate']:g}"
        )
        seeds = ", ".join(
            f"{a:.3f}" + ("" if s is None else f" (s{s})")
            for a, s in zip(r["average_precision_per_seed"], r["seeds"], strict=True)
        )
        spread = f"{r['average_precision_spread']:.3f}" if len(r["seeds"]) > 1 else "n/a (1 run)"
        wall = "" if r["train_wall_s"] is None else f"{r['train_wall_s']:.0f}"
        lines.append(
            f"| {r['dataset']} | {REALISTIC_LABELS[r['method']]} | {r['family']} | {shown} | "
            f"{r['average_precision']:.3f} | {seeds} | {spread} | {r['best_f1']:.3f} | {r['max_recall']:.3f} | "
            f"{wall} | {r['pick_wall_s']:.0f} |"
        )
    if table["targets"]:
        lines += ["", "| data set | pickflow family | issue 15 target | value | met |", "|---|---|---|---|---|"]
        for t in table["targets"]:
            met = "yes" if t["met"] else "**no**"
            lines.append(f"| {t['dataset']} | {t['family']} | {t['target']} | {t['value']:.3f} | {met} |")
    return "\n".join(lines) + "\n"


def realistic_short(table: dict, dataset: str = "lowsnr") -> str:
    """AP against the full truth of every picker on one data set: mean, and the range over seeds."""
    lines = ["| picker | family | seeds | AP (range over seeds) |", "|---|---|---|---|"]
    for r in table["rows"]:
        if r["dataset"] != dataset:
            continue
        seeds = "none (no training)" if r["seeds"] == [None] else ", ".join(str(s) for s in r["seeds"])
        ap = f"{r['average_precision']:.3f}"
        if len(r["seeds"]) > 1:
            ap += f" ({min(r['average_precision_per_seed']):.3f}–{max(r['average_precision_per_seed']):.3f})"
        lines.append(f"| {REALISTIC_LABELS[r['method']]} | {r['family']} | {seeds} | {ap} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ accuracy.py
ACCURACY_SETS = {"demo": "EMPIAR-10028 demo", "easy": "simulated easy", "hard": "simulated hard"}


def accuracy(results: dict) -> str:
    """Per data set and picker: means over seeds of AP, best F1 with its precision and recall, training time."""
    lines = [
        "| data set | picker | budget (epochs x updates x minibatch) | AP | best F1 | precision | recall | "
        "training wall s | AP per seed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, data in results["datasets"].items():
        for picker, r in data["summary"].items():
            lines.append(
                f"| {name} | {picker} | {r['budget']} | {r['average_precision']:.3f} | {r['best_f1']:.3f} | "
                f"{r['best_f1_precision']:.3f} | {r['best_f1_recall']:.3f} | {r['train_wall_s']:.1f} | {_per_seed(r)} |"
            )
    return "\n".join(lines) + "\n"


def accuracy_short(results: dict) -> str:
    """Mean AP per data set of pickflow's two families and Topaz."""
    lines = ["| data set | resnet8 | unet | Topaz |", "|---|---|---|---|"]
    for name, data in results["datasets"].items():
        aps = [data["summary"][p]["average_precision"] for p in ("pickflow resnet8", "pickflow unet", "topaz resnet8")]
        lines.append(f"| {ACCURACY_SETS.get(name, name)} | " + " | ".join(f"{ap:.3f}" for ap in aps) + " |")
    return "\n".join(lines) + "\n"


def init_comparison(results: Path) -> dict[tuple[str, str], dict]:
    """(family, train.init) -> benchmarks.accuracy's summary row of that run (results/init_lowsnr/)."""
    rows = {}
    for path in sorted((results / "init_lowsnr").glob("*.json")):
        data = json.loads(path.read_text())
        init = data["settings"]["init"]
        for picker, row in data["datasets"]["lowsnr"]["summary"].items():
            rows[(picker.removeprefix("pickflow "), init)] = row
    return dict(sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1] != "general")))


def _per_seed(row: dict) -> str:
    return ", ".join(f"{v:.3f}" for v in row["average_precision_per_seed"])


def init_lowsnr(results: Path) -> str:
    lines = [
        "| family | `train.init` | AP (full truth), mean of the seeds | AP per seed | best F1 | training wall s |",
        "|---|---|---|---|---|---|",
    ]
    for (family, init), r in init_comparison(results).items():
        lines.append(
            f"| {family} | {init} | {r['average_precision']:.3f} | {_per_seed(r)} | {r['best_f1']:.3f} | "
            f"{r['train_wall_s']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def init_lowsnr_short(results: Path) -> str:
    rows = init_comparison(results)
    lines = ["| family | general | scratch |", "|---|---|---|"]
    for family in sorted({family for family, _ in rows}):
        cells = [
            f"{rows[key]['average_precision']:.3f} ({_per_seed(rows[key])})" if key in rows else ""
            for key in ((family, "general"), (family, "scratch"))
        ]
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ side_by_side.py
def side_by_side(results: dict) -> str:
    """Stage by stage: pickflow, Topaz and their ratio. Ratios come from the run's unrounded figures
    (``results["ratios"]``) where it has them."""
    r, t = results["ratios"], results["train"]["median"]
    nan = float("nan")
    lines = ["| stage | pickflow | Topaz | ratio (Topaz / pickflow) |", "|---|---|---|---|"]
    pre = results["preprocess"]
    lines.append(
        f"| preprocess, s per micrograph (marginal, one process for all) | {pre['pickflow_s_per_micrograph_marginal']:.3f} | "
        f"{pre.get('topaz_s_per_micrograph_marginal', nan):.3f} | {r.get('preprocess_speedup_marginal', nan):.2f} |"
    )
    lines.append(
        "| preprocess, s per micrograph (pickflow: one job each, as the workflow runs it; Topaz: one run, start included) | "
        f"{pre['pickflow_s_per_micrograph_one_job_each']:.3f} | {pre.get('topaz_s_per_micrograph_incl_process_start', nan):.3f} | "
        f"{r.get('preprocess_speedup_workflow_jobs', nan):.2f} |"
    )
    settings = results["settings"]
    main = f"precision {settings['precision']}" + (", compiled" if settings["compile"] else "")
    # (variant, figure, label, the run's ratio for it, format of the figures)
    rows = [
        ("pickflow", "s_per_update", f"training, s per update ({main})", "train_updates_per_s_ratio", ".3f"),
        (
            "pickflow",
            "s_per_update_after_epoch_1",
            f"training, s per update after epoch 1 ({main})",
            "train_updates_per_s_ratio_after_epoch_1",
            ".3f",
        ),
        (
            "pickflow_fp32",
            "s_per_update",
            "training, s per update (fp32, eager)",
            "train_updates_per_s_ratio_fp32",
            ".3f",
        ),
        ("pickflow", "s_per_epoch_evaluation", "evaluation, s per epoch", "evaluation_speedup", ".2f"),
        ("pickflow", "peak_mb", "training peak memory, MB", None, ".0f"),
        ("pickflow", "average_precision", f"held-out particle AP ({main})", None, ".3f"),
        ("pickflow_fp32", "average_precision", "held-out particle AP (fp32, eager)", None, ".3f"),
        ("pickflow", "best_f1", "held-out best F1", None, ".3f"),
    ]
    for variant, key, label, ratio, fmt in rows:
        if variant not in t:
            continue
        p = t[variant].get(key, nan)
        q = t.get("topaz", {}).get("s_per_update" if key.startswith("s_per_update") else key, nan)
        shown = r[ratio] if ratio in r else (q / p if p else nan)
        lines.append(f"| {label} | {p:{fmt}} | {q:{fmt}} | {shown:.2f} |")
    ext = results["extract"]
    ap = {
        name: ext[name]["held_out"]["average_precision"]
        for name in ("pickflow_stride1", "pickflow_stride2", "topaz")
        if name in ext
    }
    lines.append(
        f"| held-out AP of the extraction runs (pickflow: stride 1 / stride 2) | {ap['pickflow_stride1']:.3f} / "
        f"{ap['pickflow_stride2']:.3f} | {ap.get('topaz', nan):.3f} | |"
    )
    for name in ("pickflow_stride1", "pickflow_stride2"):
        q = ext.get("topaz", {}).get("s_per_micrograph_marginal", nan)
        p = ext[name]["s_per_micrograph_marginal"]
        shown = r.get(f"extract_speedup_{name}", q / p)
        lines.append(f"| extraction ({name}), s per micrograph (marginal) | {p:.3f} | {q:.3f} | {shown:.2f} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ heldout.py
def heldout_extraction(runs: list[dict]) -> str:
    """Candidate recall and true AP of NMS and of blobs, with the model kept."""
    lines = [
        "| set | model | NMS candidate recall | NMS true AP | blob candidate recall | blob true AP |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        nms_row, blob = r["extraction_at_best_ap_epoch"]["nms"], r["extraction_at_best_ap_epoch"]["blob"]
        lines.append(
            f"| {Path(r['set']).name} | {r['model']} | {nms_row['candidate_recall']:.3f} | {nms_row['true_ap']:.3f} "
            f"| {blob['candidate_recall']:.3f} | {blob['true_ap']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def heldout_selection(runs: list[dict], measures: Sequence[str] = ("ap", "recall_at_expected")) -> str:
    """The epoch each partial-label measure selects and the true AP there, beside the best true AP."""
    lines = [
        "| set | model | best true AP (epoch) | by partial-label AP: epoch, true AP | by recall_at_expected: epoch, true AP |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        sel = r["selection"]
        lines.append(
            f"| {Path(r['set']).name} | {r['model']} | {sel['best_true_ap']:.3f} ({sel['best_true_epoch']}) | "
            + " | ".join(f"{sel[m]['epoch']}, {sel[m]['true_ap']:.3f}" for m in measures)
            + " |"
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ scale.py
def scale_short(result: dict) -> str:
    """DAG build time, planned jobs and SLURM submissions per number of micrographs."""
    lines = [
        "| micrographs | `snakemake -n`, s | planned jobs | `-n --profile profiles/slurm`, s | SLURM submissions |",
        "|---|---|---|---|---|",
    ]
    for p in result["dag"]:
        slurm = "-" if p["slurm_dry_run_s"] is None else f"{p['slurm_dry_run_s']:.1f}"
        submissions = "-" if p["submissions"] is None else str(p["submissions"])
        lines.append(f"| {p['n']:,} | {p['dry_run_s']:.1f} | {p['jobs']:,} | {slurm} | {submissions} |")
    return "\n".join(lines) + "\n"


def scale_parse(result: dict) -> str:
    """The dry run's first parse (every micrograph opened) and the next ones (headers cached), per size."""
    lines = [
        "| micrographs | planned jobs | `snakemake -n` first parse, wall s (CPU s) | again, wall s (CPU s) | "
        "peak memory MB | output KB (longest line, characters) |",
        "|---|---|---|---|---|---|",
    ]
    for p in result["dag"]:
        lines.append(
            f"| {p['n']:,} | {p['jobs']:,} | {p['dry_run_s']:.1f} ({p['dry_run_cpu_s']:.1f}) | "
            f"{p['again_dry_run_s']:.1f} ({p['again_dry_run_cpu_s']:.1f}) | {p['dry_run_peak_mb']:.0f} | "
            f"{p['output_kb']:,.0f} ({p['longest_line']:,}) |"
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ the registry
def _json(path: str) -> Callable[[Path], dict]:
    return lambda results: json.loads((results / path).read_text())


# NAME -> the table from the results folder. The files named here are the committed results the READMEs quote.
TABLES: dict[str, Callable[[Path], str]] = {
    "realistic": lambda d: realistic(_json("realistic/summary.json")(d)),
    "realistic-lowsnr": lambda d: realistic_short(_json("realistic/summary.json")(d)),
    "realistic-lowsnr-hard": lambda d: realistic_short(_json("realistic/summary.json")(d), "lowsnr_hard"),
    "realistic-lowsnr-4k": lambda d: realistic_short(_json("realistic/summary.json")(d), "lowsnr_4k"),
    "realistic-demo": lambda d: realistic_short(_json("realistic/summary.json")(d), "demo"),
    "init-lowsnr": init_lowsnr,
    "init-lowsnr-short": init_lowsnr_short,
    "accuracy": lambda d: accuracy(_json("accuracy-e04e06b.json")(d)),
    "accuracy-short": lambda d: accuracy_short(_json("accuracy-e04e06b.json")(d)),
    "side-by-side": lambda d: side_by_side(_json("side_by_side-e04e06b.json")(d)),
    "heldout-extraction": lambda d: heldout_extraction(_json("heldout-f0373a3.json")(d)["runs"]),
    "heldout-selection": lambda d: heldout_selection(_json("heldout-f0373a3.json")(d)["runs"]),
    "scale": lambda d: scale_short(_json("scale-e00d633.json")(d)),
    "scale-parse": lambda d: scale_parse(_json("scale.json")(d)),
}


def rewrite(text: str, tables: dict[str, str]) -> str:
    """``text`` with the body between each pair of markers named in ``tables`` replaced; other markers stay. A table
    inside a list item takes its markers' indentation."""
    names = [m.group("name") for m in MARKER.finditer(text)]
    begins = re.findall(r"^[ \t]*<!-- table ([\w-]+): begin -->", text, re.M)
    if sorted(names) != sorted(begins):
        raise ValueError(f"a table marker has no matching end: {sorted(set(begins) - set(names))}")

    def body(match: re.Match[str]) -> str:
        name, indent = match.group("name"), match.group("indent")
        if name not in tables:
            return match.group(0)
        table = "".join(f"{indent}{line}" if line.strip() else line for line in tables[name].splitlines(keepends=True))
        return f"{indent}<!-- table {name}: begin -->\n{table}{indent}<!-- table {name}: end -->"

    return MARKER.sub(body, text)


def generate(results: Path = RESULTS, names: Sequence[str] | None = None) -> dict[str, str]:
    """Every table (or those ``names``) from the JSON under ``results``."""
    return {name: TABLES[name](results) for name in (names or TABLES)}


def tables_in(text: str) -> list[str]:
    """The names of the tables marked in ``text``."""
    return [m.group("name") for m in MARKER.finditer(text)]


def update(readme: Path, tables: dict[str, str]) -> bool:
    """Rewrite ``readme``'s tables that ``tables`` names; whether anything changed."""
    text = readme.read_text()
    new = rewrite(text, tables)
    if new != text:
        readme.write_text(new)
    return new != text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("readmes", nargs="*", type=Path, default=list(READMES))
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table differs")
    args = parser.parse_args(argv)
    stale = []
    for readme in args.readmes:
        text = readme.read_text()
        unknown = sorted(set(tables_in(text)) - set(TABLES))
        if unknown:
            parser.error(f"{readme}: no generator for the tables {unknown}")
        tables = generate(args.results, tables_in(text))
        if rewrite(text, tables) != text:
            stale.append(str(readme))
            if not args.check:
                update(readme, tables)
    verb = "differ from the JSON" if args.check else "rewritten"
    print(f"{verb}: {', '.join(stale)}" if stale else "every table matches its JSON")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
