"""The configuration schema, ``workflow/schemas/config.schema.yaml``: the one owner of every setting's
default and allowed values. Code that needs an allowed value or a default reads it here instead of
copying it (``tests/unit/test_schema_defaults.py`` checks the dataclasses' defaults against it).

Keys are written as in messages and config.yaml: ``"train.model"``, ``"pick.threshold.mode"``.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import yaml

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


@cache
def _loaded() -> dict:
    return yaml.safe_load(SCHEMA.read_text())


def full_schema() -> dict:
    """The whole schema (a copy: callers may change it)."""
    return copy.deepcopy(_loaded())


def setting(key: str) -> dict:
    """The schema of one setting, e.g. ``setting("train.eval_stride")`` (KeyError for an unknown key)."""
    node = _loaded()
    for part in key.split("."):
        node = node["properties"][part]
    return copy.deepcopy(node)


def allowed(key: str) -> tuple:
    """The values a setting allows (its ``enum``), in the schema's order."""
    return tuple(setting(key)["enum"])


def has_default(key: str) -> bool:
    """Whether the schema fills in a default for ``key`` (False for required settings)."""
    return "default" in setting(key)


def default(key: str) -> object:
    """The default the schema fills in for ``key`` (KeyError naming the key for a required setting)."""
    found = setting(key)
    if "default" not in found:
        raise KeyError(f"{key} has no default in {SCHEMA.name}: it is required")
    return found["default"]


def settings(section: str) -> list[str]:
    """The keys of one section, e.g. ``settings("train")`` -> ``["train.model", "train.init", ...]``."""
    return [f"{section}.{name}" for name in setting(section)["properties"]]
