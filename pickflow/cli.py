"""Shared entry point of the scripts in ``scripts/``: each runs under Snakemake (``script:``) or by
hand from the command line, logs to its rule's log file, and turns input errors into one clear
message and a non-zero exit."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any

from .errors import InputError, TrainingError

log = logging.getLogger("pickflow")


def configure_logging(log_file: str | None) -> None:
    """Log to stderr, and also to ``log_file`` when given (a Snakemake rule's ``log:``)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True
    )


def entry(
    run: Callable[..., Any],
    parser: argparse.ArgumentParser,
    from_args: Callable[[argparse.Namespace], dict],
    job: Any = None,
    from_job: Callable[[Any], dict] | None = None,
) -> None:
    """Call ``run(**kwargs)`` with arguments from the Snakemake ``job`` object or the command line."""
    if job is not None and from_job is not None:
        configure_logging(job.log[0] if job.log else None)
        kwargs = from_job(job)
    else:
        args = parser.parse_args()
        configure_logging(getattr(args, "log", None))
        kwargs = from_args(args)
    try:
        run(**kwargs)
    except (InputError, TrainingError) as exc:
        log.error("%s", exc)
        sys.exit(1)


def config_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the options every script shares (``--config``, ``--log``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", default="config.yaml", help="pickflow config file (default: config.yaml)")
    parser.add_argument("--log", help="also write the log to this file")
    return parser


def optional_input(value: Any) -> str | None:
    """A Snakemake input that is one file or none (an input function returned ``[]``)."""
    if isinstance(value, str):
        return value
    return str(value[0]) if len(value) else None
