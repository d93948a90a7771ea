"""Progress of a long job for its log lines: k/N steps done, the time elapsed and an estimate of the time left."""

from __future__ import annotations

import time


def duration(seconds: float) -> str:
    """A duration as people read it: 42s, 3m05s, 2h07m."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Counts the finished steps of a job; the time left is the mean time per step so far times the steps left.

    ``done`` counts steps finished before this process started (a resumed job): they count towards k/N but
    not towards the time per step.
    """

    def __init__(self, total: int, done: int = 0) -> None:
        self.total, self.done, self._first = total, done, done
        self._started = time.perf_counter()

    def step(self) -> str:
        """Record one finished step; return 'k/N, <elapsed> elapsed, about <left> left'."""
        self.done += 1
        elapsed = time.perf_counter() - self._started
        left = elapsed / (self.done - self._first) * (self.total - self.done)
        return f"{self.done}/{self.total}, {duration(elapsed)} elapsed, about {duration(left)} left"
