"""Record the micrographs left out of the run by ``micrographs.on_error: skip`` (header check failed).

The list comes from the workflow's header check when it reads the config."""

from __future__ import annotations

from ..io.atomic import write_json


def record_skipped(output: str, skipped: dict[str, str]) -> None:
    write_json(output, {"skipped": [{"micrograph": key, "reason": reason} for key, reason in skipped.items()]})
