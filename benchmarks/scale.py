"""Scale benchmark: DAG build time, cluster submissions and per-stage memory versus the number of micrographs.

    python -m benchmarks.scale [--micrographs 10000] [--out benchmarks/results] [--smoke]

1. ``snakemake -n`` wall time and planned jobs for N micrographs (a few tiny real MRCs, the rest symlinks).
2. Cluster submissions of the SLURM profile (dry run): group jobs count once.
3. Peak RSS of every stage's job processes in a real (tiny) run for small N, read from /proc while it runs.

Writes OUT/scale.json and OUT/scale.md and prints the table. ``--smoke`` runs part 1 only, for N in {50, 200}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks.common import RESULTS, cpu_model
from benchmarks.measure import run_measured
from pickflow.io.micrographs import write_mrc
from pickflow.report.provenance import git_commit
from tests.workflow.helpers import REPO, job_stats, snakemake_argv, write_config

SNAKEFILE = REPO / "Snakefile"  # the workflow measured: see use_ref() and benchmarks.incremental's --snakefile
PROFILE = REPO / "profiles" / "slurm"
N_REAL_DAG = 4  # distinct MRC files behind the symlinks of the DAG part
N_LABELED = 4  # micrographs with labels (>= 2 for the split)
STAGES = (
    "preprocess",
    "labels",
    "split",
    "train",
    "score",
    "threshold",
    "picks",
    "plot_preprocessing",
    "plots",
    "report_summary",
)

CONFIG = {
    "micrographs": {"path": "data/micrographs/*.mrc", "pixel_size": 5.36},
    "particle_diameter": 100,
    "labels": {"coordinates": "data/coordinates.csv", "format": "auto"},
    "preprocess": {"downsample": 1, "normalize": "gmm", "threads": 1},
    "split": {"test_fraction": 0.3, "seed": 0},
    "train": {
        "model": "resnet8",
        "units": 8,
        "init": "scratch",
        "expected_particles": 20,
        "minibatch_size": 16,
        "epoch_size": 2,
        "epochs": 1,
        "learning_rate": 0.001,
        "seed": 0,
        "device": "cpu",
        "threads": 1,
    },
    "cv": {"enabled": False},
    "pick": {"method": "nms", "threshold": {"mode": "f1"}, "batch_size": 20, "device": "cpu", "threads": 1},
}


# ---------------------------------------------------------------- working directories


def write_noise_mrc(path: Path, size: int, seed: int) -> None:
    write_mrc(path, np.random.default_rng(seed).normal(size=(size, size)), 5.36)


def mic_name(i: int) -> str:
    return f"mic_{i:06d}.mrc"


def write_labels(path: Path, names: Sequence[str], size: int, per_mic: int = 8) -> None:
    rng = np.random.default_rng(1)
    margin = max(4, size // 8)
    rows = ["micrograph,x,y"]
    for name in names:
        for x, y in rng.integers(margin, size - margin, size=(per_mic, 2)):
            rows.append(f"{name},{x},{y}")
    path.write_text("\n".join(rows) + "\n")


def make_workdir(root: Path, n: int, size: int, n_real: int) -> Path:
    """``n`` micrographs: ``n_real`` distinct noise MRCs, the rest symlinks to them; labels for a few."""
    mics = root / "data" / "micrographs"
    mics.mkdir(parents=True)
    real = root / "data" / "real"
    real.mkdir()
    sources = []
    for i in range(n_real):
        sources.append(real / f"real_{i}.mrc")
        write_noise_mrc(sources[-1], size, seed=i)
    for i in range(n):
        target = mics / mic_name(i)
        if n_real >= n:
            sources[i].rename(target)
        else:
            target.symlink_to(sources[i % n_real])
    write_labels(root / "data" / "coordinates.csv", [mic_name(i) for i in range(min(N_LABELED, n))], size)
    write_config(root, CONFIG)
    return root


# ---------------------------------------------------------------- part 1 and 2: dry runs


@dataclass(frozen=True)
class Timed:
    wall_s: float
    cpu_s: float  # user + system of snakemake and its children: steadier than wall time on a shared machine
    output: str
    peak_mb: float = 0.0  # peak resident memory of snakemake (ru_maxrss)


def snakemake(workdir: Path, *args: str, env: dict[str, str] | None = None) -> Timed:
    """Run the workflow in ``workdir`` to completion (raises on failure)."""
    run = run_measured(snakemake_argv(workdir, *args, snakefile=SNAKEFILE), env, cwd=workdir)
    return Timed(round(run.seconds, 2), round(run.cpu_s, 2), run.output, round(run.peak_mb, 1))


def group_components(profile: Path) -> dict[str, int]:
    data = yaml.safe_load((profile / "profile.yaml").read_text())
    return {str(k): int(v) for k, v in (data.get("group-components") or {}).items()}


def submissions(jobs: dict[str, int], groups: dict[str, int], local: Sequence[str]) -> dict[str, int]:
    """Rule -> cluster submissions expected from the profile: a grouped rule's jobs go ``groups[rule]`` per
    submission, local rules none."""
    return {
        rule: math.ceil(count / groups[rule]) if rule in groups else count
        for rule, count in jobs.items()
        if rule != "total" and rule not in local
    }


def dry_run_submissions(output: str, local: Sequence[str]) -> dict[str, int]:
    """Submissions as the dry run lists them: each 'Group job G' block once, each top-level non-local rule job
    once. Jobs inside a group block are indented; the dry run does not mark local jobs, so ``local`` says which."""
    counts: dict[str, int] = {}
    for line in output.splitlines():
        group = re.match(r"(?:\[[^]]*\] )?Group job (\S+)", line)
        rule = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):$", line)
        key = f"group {group.group(1)}" if group else (rule.group(1) if rule else None)
        if key and key not in local:
            counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass
class DagPoint:
    n: int
    dry_run_s: float
    dry_run_cpu_s: float
    jobs: int
    jobs_per_rule: dict[str, int]
    dry_run_peak_mb: float = 0.0
    output_kb: float = 0.0  # size of the dry run's console output
    longest_line: int = 0  # characters in its longest line (a job's input list)
    # The same dry run again: the first parse of a project reads every micrograph's header and fingerprint,
    # later parses take them from .snakemake/pickflow/micrographs.json (the usual case: a project is parsed often).
    again_dry_run_s: float | None = None
    again_dry_run_cpu_s: float | None = None
    again_dry_run_peak_mb: float | None = None
    slurm_dry_run_s: float | None = None
    slurm_dry_run_cpu_s: float | None = None
    submissions: int | None = None
    submissions_per_rule: dict[str, int] = field(default_factory=dict)
    submissions_expected: int | None = None  # from Job stats and the profile's group-components


def local_rules() -> list[str]:
    """Rules marked ``localrule: True`` in the workflow (they never reach the cluster)."""
    found = []
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        rule = None
        for line in smk.read_text().splitlines():
            m = re.match(r"rule (\w+):", line)
            if m:
                rule = m.group(1)
            elif rule and line.strip() == "localrule: True":
                found.append(rule)
    return [*found, "all"]  # 'all' has no script: Snakemake never submits it


def without_slurm_client(root: Path) -> dict[str, str]:
    """The environment of a machine without a SLURM client, for the dry runs without the SLURM profile: an empty
    ``SLURM_CONF``, so that Snakemake's SLURM plugin does not wait at its start for a controller that does not
    answer (this VM's stopped test cluster; see ``snakemake_start``, which measures that wait)."""
    empty = root / "slurm-none.conf"
    empty.touch()
    return dict(os.environ, SLURM_CONF=str(empty))


def dag_point(root: Path, n: int, with_slurm: bool) -> DagPoint:
    workdir = make_workdir(root / f"dag_{n}", n, size=64, n_real=N_REAL_DAG)
    plain_env = without_slurm_client(root)
    plain = snakemake(workdir, "-n", env=plain_env)
    jobs = job_stats(plain.output)
    lines = plain.output.splitlines()
    point = DagPoint(
        n,
        plain.wall_s,
        plain.cpu_s,
        jobs.get("total", 0),
        jobs,
        plain.peak_mb,
        round(len(plain.output) / 1024, 1),
        max(map(len, lines), default=0),
    )
    again = snakemake(workdir, "-n", env=plain_env)
    point.again_dry_run_s, point.again_dry_run_cpu_s, point.again_dry_run_peak_mb = (
        again.wall_s,
        again.cpu_s,
        again.peak_mb,
    )
    if with_slurm:
        env = dict(os.environ, PICKFLOW_CPU_PARTITION="cpu", PICKFLOW_GPU_PARTITION="gpu")
        slurm = snakemake(workdir, "-n", "--profile", str(PROFILE), env=env)
        (root / f"slurm_dry_run_{n}.log").write_text(slurm.output)
        local = local_rules()
        listed = dry_run_submissions(slurm.output, local)
        expected = submissions(job_stats(slurm.output), group_components(PROFILE), local)
        point.slurm_dry_run_s, point.slurm_dry_run_cpu_s = slurm.wall_s, slurm.cpu_s
        point.submissions = sum(listed.values())
        point.submissions_per_rule = listed
        point.submissions_expected = sum(expected.values())
    return point


# ---------------------------------------------------------------- part 3: memory of the stages


class RssSampler(threading.Thread):
    """Polls /proc for the descendants of one process; keeps each one's peak RSS (VmHWM) and command line."""

    def __init__(self, root_pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.interval = root_pid, interval
        self.peaks: dict[int, tuple[float, str]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in self.descendants():
                peak, cmd = read_hwm(pid)
                if peak and peak > self.peaks.get(pid, (0.0, ""))[0]:
                    self.peaks[pid] = (peak, cmd)
            self.stop.wait(self.interval)

    def descendants(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    ppid = int(Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.root_pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found


def read_hwm(pid: int) -> tuple[float, str]:
    """Peak resident set (MB) and command line of one process; (0, '') when it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return 0.0, ""
    m = re.search(r"VmHWM:\s+(\d+) kB", status)
    return (int(m.group(1)) / 1024.0 if m else 0.0), cmd


def stage_of(cmd: str, controller: str) -> tuple[str, str] | None:
    """(stage, job id) of a job process: Snakemake runs `script:` rules as .snakemake/scripts/tmpXXXX.NAME.py,
    and the preprocess rule runs scripts/preprocess.py MICROGRAPH ... (the id: the micrograph); the wrapping shell
    matches too, with the same id. The controller is the snakemake process itself."""
    script = re.search(r"\.snakemake/scripts/(tmp\w+)\.(\w+)\.py", cmd)
    if script:
        return script.group(2), script.group(1)
    command = re.search(r"/scripts/(\w+)\.py (\S+)", cmd)
    if command:
        return command.group(1), command.group(2)
    return ("snakemake (controller)", "controller") if cmd == controller else None


def memory_point(root: Path, n: int, cores: int) -> dict[str, object]:
    workdir = make_workdir(root / f"mem_{n}", n, size=256, n_real=n)
    argv = snakemake_argv(workdir, "--cores", str(cores), snakefile=SNAKEFILE)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = RssSampler(proc.pid)
    sampler.start()
    output = proc.communicate()[0]
    sampler.stop.set()
    sampler.join()
    seconds = time.perf_counter() - t0
    (root / f"mem_{n}.log").write_text(output)
    if proc.returncode != 0:
        raise RuntimeError(f"real run N={n} failed:\n{output[-4000:]}")
    controller = " ".join(argv)
    peaks: dict[str, float] = {}
    jobs: dict[str, set[str]] = {}
    for peak, cmd in sampler.peaks.values():
        found = stage_of(cmd.strip(), controller)
        if found:
            stage, job = found
            peaks[stage] = max(peaks.get(stage, 0.0), peak)
            jobs.setdefault(stage, set()).add(job)
    return {
        "n": n,
        "wall_s": round(seconds, 1),
        "peak_rss_mb": {k: round(v, 1) for k, v in sorted(peaks.items())},
        "jobs_seen": {k: len(v) for k, v in sorted(jobs.items())},
    }


# ---------------------------------------------------------------- report


def machine() -> dict[str, str]:
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model(),
        "commit": git_commit(REPO) or "unknown",  # '+dirty': tracked files were modified
        "python": platform.python_version(),
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def snakemake_start() -> dict[str, float]:
    """Wall and CPU seconds of ``snakemake --version``: the start-up every dry run pays before it reads the
    workflow. Where a SLURM client is installed but no controller answers, Snakemake's SLURM executor plugin
    waits at every start for ``scontrol show config`` to time out (about 9 s on this project's VM)."""
    run = run_measured([sys.executable, "-m", "snakemake", "--version"])
    return {"snakemake_start_s": round(run.seconds, 2), "snakemake_start_cpu_s": round(run.cpu_s, 2)}


def growth(memory: list[dict[str, Any]]) -> dict[str, str]:
    """Per stage: peak at the largest N over the smallest N, and a verdict (> 1.25x counts as growing)."""
    if len(memory) < 2:
        return {}
    first, last = memory[0]["peak_rss_mb"], memory[-1]["peak_rss_mb"]
    out = {}
    for stage in last:
        if first.get(stage):
            ratio = last[stage] / first[stage]
            out[stage] = f"{ratio:.2f}x ({'grows' if ratio > 1.25 else 'flat'})"
    return out


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        f"# pickflow scale benchmark ({m['date']}, {m['nproc']} cores, {m['cpu']}, commit {m['commit']}, "
        f"workflow: {m['workflow']}, load average at the start {m.get('load_average_start', '?')}, "
        f"at the end {m.get('load_average', '?')}, Snakemake start-up {m.get('snakemake_start_s', '?')} s wall)",
        "",
        "## DAG build (`snakemake -n`) and SLURM submissions (`-n --profile profiles/slurm`)",
        "",
        "| micrographs | `-n` wall s (CPU s), first parse | `-n` again, wall s (CPU s) | `-n` peak MB (again) | "
        "`-n` output KB (longest line, chars) | jobs planned | "
        "`-n` with SLURM profile, wall s (CPU s) | cluster submissions (dry-run listing) | expected from profile | "
        "submissions per rule |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in result["dag"]:
        per_rule = ", ".join(f"{r} {c}" for r, c in p["submissions_per_rule"].items()) or "-"
        slurm = f"{p['slurm_dry_run_s']} ({p['slurm_dry_run_cpu_s']})" if p["slurm_dry_run_s"] is not None else "-"
        again = f"{p['again_dry_run_s']} ({p['again_dry_run_cpu_s']})" if p.get("again_dry_run_s") else "-"
        lines.append(
            f"| {p['n']} | {p['dry_run_s']} ({p['dry_run_cpu_s']}) | {again} | "
            f"{p.get('dry_run_peak_mb', '-')} ({p.get('again_dry_run_peak_mb') or '-'}) | "
            f"{p.get('output_kb', '-')} ({p.get('longest_line', '-')}) | {p['jobs']} | {slurm} | "
            f"{p['submissions'] if p['submissions'] is not None else '-'} | "
            f"{p['submissions_expected'] if p['submissions_expected'] is not None else '-'} | {per_rule} |"
        )
    if result["memory"]:
        stages = sorted({s for point in result["memory"] for s in point["peak_rss_mb"]})
        ns = [point["n"] for point in result["memory"]]
        lines += [
            "",
            "## Peak RSS per stage, MB (real run; max over that stage's job processes)",
            "",
            "| stage | " + " | ".join(f"N={n}" for n in ns) + " | largest / smallest |",
            "|---|" + "---|" * (len(ns) + 1),
        ]
        for stage in stages:
            row = [str(point["peak_rss_mb"].get(stage, "-")) for point in result["memory"]]
            lines.append(f"| {stage} | " + " | ".join(row) + f" | {result['memory_growth'].get(stage, '-')} |")
        lines.append("| (run wall s) | " + " | ".join(str(p["wall_s"]) for p in result["memory"]) + " | |")
    lines += ["", *[f"- {note}" for note in result["notes"]]]
    return "\n".join(lines) + "\n"


def use_ref(ref: str, root: Path) -> str:
    """Benchmark the workflow of a git ref (exported with git archive) instead of the working tree."""
    tree = root / "tree"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    global SNAKEFILE
    SNAKEFILE = tree / "Snakefile"
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", ref], capture_output=True, text=True, check=True)
    return commit.stdout.strip()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--micrographs", type=int, default=10000, help="largest N of the DAG part")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[20, 80], help="N of the real runs")
    parser.add_argument("--cores", type=int, default=2, help="--cores of the real runs")
    parser.add_argument("--smoke", action="store_true", help="DAG part only, N in {50, 200}")
    parser.add_argument("--no-slurm", action="store_true", help="skip the SLURM-profile dry runs")
    parser.add_argument("--ref", help="benchmark this git ref (e.g. HEAD) instead of the working tree")
    parser.add_argument("--keep", type=Path, help="keep the working directories here instead of a temp dir")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(argv)
    sizes = [50, 200] if args.smoke else sorted({n for n in (100, 1000, args.micrographs) if n <= args.micrographs})
    memory_sizes = [] if args.smoke else args.memory_sizes
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="pickflow-scale-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        if args.ref:
            args.ref = use_ref(args.ref, root)  # the commit, resolved now: HEAD may move while this runs
        dag = []
        for n in sizes:
            dag.append(dag_point(root, n, with_slurm=not args.no_slurm))
            print(f"dag N={n}: {asdict(dag[-1])}", file=sys.stderr, flush=True)
        memory = []
        for n in memory_sizes:
            try:
                memory.append(memory_point(root, n, args.cores))
            except RuntimeError as exc:  # a failing job: keep the DAG figures, record the failure
                print(exc, file=sys.stderr)
                memory.append({"n": n, "error": str(exc)[-2000:], "peak_rss_mb": {}, "wall_s": None})
            print(f"memory N={n}: {memory[-1]}", file=sys.stderr, flush=True)
    result = {
        "machine": machine()
        | {"workflow": f"git {args.ref}" if args.ref else "working tree", "load_average_start": load}
        | snakemake_start(),
        "dag": [asdict(p) for p in dag],
        "memory": memory,
        "memory_growth": growth(memory),
        "notes": notes(args),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (args.out / "scale.md").write_text(table)
    print(table)
    return result


def notes(args: argparse.Namespace) -> list[str]:
    groups = group_components(PROFILE)
    return [
        f"DAG part: {N_REAL_DAG} distinct 64x64 float32 MRCs, the other micrographs symlinks to them; "
        f"labels on {N_LABELED}; target (issue 18): `snakemake -n` of 30,000 micrographs under 60 s and 2 GB. "
        "The first parse of a project opens every micrograph (header and content fingerprint); the second "
        "(`again`) finds them in .snakemake/pickflow/micrographs.json and opens none. Wall time depends on the "
        "load of the shared machine (see the load average in the machine line); CPU time much less. Every wall "
        "time includes Snakemake's start-up. The dry runs without the SLURM profile run as on a machine without "
        "a SLURM client (an empty SLURM_CONF); `snakemake_start_s` in the machine line is the start-up with this "
        "machine's SLURM client, whose stopped test controller makes the SLURM plugin wait for `scontrol show "
        "config` at every start (a controller that answers, as on a cluster's login node, does not).",
        f"Submissions: jobs per rule from the SLURM-profile dry run's Job stats; rules with `localrule: True` "
        f"run in the controller; grouped rules count ceil(jobs / group-components) with {groups}.",
        "Memory: one real run per N (distinct 256x256 noise MRCs, tiny training), /proc polled every 50 ms; "
        "a stage's value is the largest VmHWM among its job processes; the controller is the snakemake process.",
    ]


if __name__ == "__main__":
    main()
