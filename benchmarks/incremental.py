"""Picking while data arrives: what adding k micrographs to a finished N-micrograph project runs again, and how many
SLURM submissions a whole run of N micrographs takes.

    python -m benchmarks.incremental [--micrographs 5000] [--add 10] [--label NAME] [--snakefile PATH] [--pick JSON]
        [--out DIR]

The finished project is made without running anything: every output the dry run plans is created empty (the picks
summary as minimal JSON) and ``snakemake --touch --forceall`` dates them in the order of the DAG and records
Snakemake's metadata of every job (its input files and params), as a real run does. The metadata matters: the input
micrographs are ancient (their content fingerprints decide reruns, not file times), so what reruns the batch of a new
micrograph is the changed set of input files of its scoring job, which Snakemake knows only from that metadata. Then ``--add`` micrographs are
added and a dry run lists the jobs; the micrographs of the planned score jobs are read from their input lists.
Submissions come from a dry run of a fresh project under profiles/slurm (benchmarks.scale, group jobs count
once). ``--snakefile`` measures another version of the workflow. Writes OUT/incremental-LABEL.json.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from benchmarks import scale
from benchmarks.common import RESULTS

DIRECTORY_OUTPUTS = {"results/picks/micrographs", "results/picks/relion"}
# A results/picks/summary.json with no picks, every key that pickflow.io.records.PickSummary reads.
PICKS_SUMMARY = {
    "threshold": 0.0,
    "threshold_mode": "value",
    "threshold_reason": "simulated finished project",
    "n_micrographs": 0,
    "n_picks": 0,
    "picks_per_micrograph": {},
    "unusual_pick_counts": {"median": 0.0, "robust_sd": 1.0, "low": 0.0, "high": 0.0, "few": [], "many": []},
    "overview_micrographs": [],
    "box_size": 0,
}


def planned(output: str) -> list[tuple[str, list[str], list[str]]]:
    """(rule, inputs, outputs) of every job of a dry run's output (jobs inside group jobs are indented)."""
    jobs: list[tuple[str, list[str], list[str]]] = []
    for line in output.splitlines():
        rule = re.fullmatch(r"\s*(?:local)?(?:rule|checkpoint) (\w+):", line)
        field = re.fullmatch(r"\s*(input|output): (.*)", line)
        if rule:
            jobs.append((rule.group(1), [], []))
        elif field and jobs:
            _, inputs, outputs = jobs[-1]
            (inputs if field.group(1) == "input" else outputs).extend(field.group(2).split(", "))
    return jobs


def finish_without_running(workdir: Path) -> None:
    """Create every planned output (empty), then let Snakemake date them in DAG order and record every job's
    metadata (a plain ``--touch`` touches only the jobs that need to run, none here, and records nothing)."""
    for _, _, outputs in planned(scale.snakemake(workdir, "--dry-run").output):
        for name in outputs:
            path = workdir / name
            if name in DIRECTORY_OUTPUTS:
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(PICKS_SUMMARY) if name == "results/picks/summary.json" else "")
    scale.snakemake(workdir, "--touch", "--forceall", "--cores", "1")
    left = planned(scale.snakemake(workdir, "--dry-run").output)
    if left:
        raise RuntimeError(f"the simulated finished project still plans {len(left)} jobs: {left[:3]}")


def add_micrographs(workdir: Path, n: int, k: int) -> None:
    mics = workdir / "data" / "micrographs"
    for i in range(n, n + k):
        (mics / scale.mic_name(i)).symlink_to(workdir / "data" / "real" / f"real_{i % scale.N_REAL_DAG}.mrc")


def measure(root: Path, n: int, k: int) -> dict:
    workdir = scale.make_workdir(root / f"inc_{n}", n, size=64, n_real=scale.N_REAL_DAG)
    t0 = time.perf_counter()
    finish_without_running(workdir)
    setup_s = time.perf_counter() - t0
    add_micrographs(workdir, n, k)
    jobs = planned(scale.snakemake(workdir, "--dry-run").output)
    score = [inputs for rule, inputs, _ in jobs if rule == "score"]
    rescored = {p for inputs in score for p in inputs if re.fullmatch(r"results/preprocessed/.*\.json", p)}
    fresh = scale.dag_point(root, n, with_slurm=True)
    return {
        "micrographs": n,
        "added": k,
        "preprocess_jobs": sum(rule == "preprocess" for rule, _, _ in jobs),
        "score_jobs": len(score),
        "micrographs_scored": len(rescored),
        "jobs_planned": len(jobs),
        "most_inputs_per_rule": {rule: max(len(i) for r, i, _ in jobs if r == rule) for rule, _, _ in jobs},
        "fresh_run": asdict(fresh),
        "setup_s": round(setup_s, 1),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--micrographs", type=int, default=5000)
    parser.add_argument("--add", type=int, default=10)
    parser.add_argument("--label", default="working-tree")
    parser.add_argument("--snakefile", type=Path, help="measure this Snakefile instead of the working tree's")
    parser.add_argument(
        "--pick",
        type=json.loads,
        default={},
        help="pick settings as JSON; null removes a key (default: the scale benchmark's)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(argv)
    pick = {**scale.CONFIG["pick"], **args.pick}
    scale.CONFIG["pick"] = {key: value for key, value in pick.items() if value is not None}
    if args.snakefile:  # that workflow with its own SLURM profile
        scale.SNAKEFILE = args.snakefile.resolve()
        scale.PROFILE = args.snakefile.resolve().parent / "profiles" / "slurm"
    with tempfile.TemporaryDirectory(prefix="pickflow-incremental-") as tmp:
        result = {
            "label": args.label,
            "machine": scale.machine(),
            "pick": scale.CONFIG["pick"],
            **measure(Path(tmp), args.micrographs, args.add),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"incremental-{args.label}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "fresh_run"}, indent=2))
    print("fresh run submissions:", result["fresh_run"]["submissions"], result["fresh_run"]["submissions_per_rule"])
    return result


if __name__ == "__main__":
    main()
