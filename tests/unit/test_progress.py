"""Progress lines of long jobs: k/N, elapsed time and the estimate of the time left."""

from __future__ import annotations

import re

from pickflow.progress import Progress, duration


def test_duration_reads_as_seconds_minutes_or_hours():
    assert [duration(s) for s in (0.4, 42, 185, 7620)] == ["0s", "42s", "3m05s", "2h07m"]


def test_progress_counts_steps_and_estimates_the_rest_from_this_process_only():
    progress = Progress(total=10, done=4)  # a job resumed after 4 of 10 steps
    lines = [progress.step() for _ in range(6)]
    assert [line.split(",")[0] for line in lines] == ["5/10", "6/10", "7/10", "8/10", "9/10", "10/10"]
    assert all(re.fullmatch(r"\d+/10, \d+s elapsed, about \d+s left", line) for line in lines)
    assert lines[-1].endswith("about 0s left")
