"""Running a benchmarked command: wall seconds, CPU seconds and peak resident memory of that command alone."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    cpu_s: float = 0.0  # user + system of the command and its waited children: steadier than wall time
    output: str = ""  # stdout and stderr together


def run_measured(
    cmd: Sequence[object], env: dict[str, str] | None = None, log: Path | None = None, cwd: Path | None = None
) -> Run:
    """Run ``cmd`` to completion; its peak RSS comes from ``wait4`` (this child and its waited children)."""
    argv = [str(c) for c in cmd]
    t0 = time.perf_counter()
    with subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        output = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t0
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"$ {shlex.join(argv)}\n# wall_s={seconds:.3f} rc={proc.returncode}\n{output}")
    if proc.returncode != 0:
        where = f" in {cwd}" if cwd else ""
        raise RuntimeError(f"command failed (rc={proc.returncode}){where}: {shlex.join(argv)}\n{output[-4000:]}")
    return Run(seconds, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime, output)
