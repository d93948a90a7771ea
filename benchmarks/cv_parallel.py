"""Cross-validation wall time with parallel job slots vs the same jobs one after another.

Builds a small k x n cross-validation on demo micrographs, prepares everything up to the folds, then
times only the fold jobs + aggregation with `--cores 1` and with `--cores N` (each fold job uses one
thread, so Snakemake runs up to N at once). Alternates the two runs `--repeats` times (fold outputs
are deleted between runs) and reports the medians and their ratio.

    .venv/bin/python -m benchmarks.cv_parallel [--values 3] [--folds 2] [--cores 2] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import RESULTS
from tests.workflow.helpers import make_workdir, snakemake


def timed(workdir: Path, cores: int) -> float:
    shutil.rmtree(workdir / "results/cv", ignore_errors=True)
    assert snakemake(workdir, "--cores", "1", "results/cv/folds.json").returncode == 0
    start = time.perf_counter()
    result = snakemake(workdir, "--cores", str(cores), "results/cv/best.json")
    assert result.returncode == 0, result.stderr[-3000:]
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=3)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    values = [0.001 * (i + 1) for i in range(args.values)]
    cv = {"enabled": True, "parameter": "learning_rate", "values": values, "folds": args.folds}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = make_workdir(Path(tmp), n_micrographs=8, cv=cv, train={"epochs": 2, "epoch_size": 15, "threads": 1})
        assert snakemake(workdir, "--cores", str(args.cores), "results/split/split.json").returncode == 0
        sequential, parallel = [], []
        for _ in range(args.repeats):
            sequential.append(timed(workdir, 1))
            parallel.append(timed(workdir, args.cores))
    result = {
        "jobs": args.values * args.folds,
        "cores": args.cores,
        "sequential_s": statistics.median(sequential),
        "parallel_s": statistics.median(parallel),
        "runs": {"sequential": sequential, "parallel": parallel},
    }
    result["speedup"] = result["sequential_s"] / result["parallel_s"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cv_parallel.json").write_text(json.dumps(result, indent=2))
    print(
        f"{result['jobs']} fold jobs: one after another {result['sequential_s']:.1f} s, "
        f"{args.cores} slots {result['parallel_s']:.1f} s, ratio {result['speedup']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
