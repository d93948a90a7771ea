"""The workflow's steps as functions: each script in ``scripts/`` calls one of them with its Snakemake job's
inputs, outputs and params, and the ``pickflow`` command (``pickflow.cli``) calls the same function by hand.

``entry`` is the scripts' side: it logs to the rule's log file and turns input errors into one clear message and a
non-zero exit."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from ..errors import InputError, TrainingError

log = logging.getLogger("pickflow")


def configure_logging(log_file: str | None) -> None:
    """Log to stderr, and also to ``log_file`` when given (a Snakemake rule's ``log:``)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True
    )


def report_errors(run: Callable[..., Any], **kwargs: Any) -> None:
    """Call ``run(**kwargs)``; an input or training error becomes one logged message and exit status 1."""
    try:
        run(**kwargs)
    except (InputError, TrainingError) as exc:
        log.error("%s", exc)
        sys.exit(1)


def entry(run: Callable[..., Any], job: Any, from_job: Callable[[Any], dict]) -> None:
    """Call ``run`` with the keyword arguments ``from_job`` reads from the Snakemake ``job`` object."""
    configure_logging(job.log[0] if job.log else None)
    report_errors(run, **from_job(job))


def optional_input(value: Any) -> str | None:
    """A Snakemake input that is one file or none (an input function returned ``[]``)."""
    if isinstance(value, str):
        return value
    return str(value[0]) if len(value) else None
