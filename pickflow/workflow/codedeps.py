"""The code a job runs: a script and every pickflow module it imports, found from the imports.

The workflow puts a digest of these files in each rule's params, so that editing a module reruns
exactly the jobs whose scripts import it (directly or through other modules), by content.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

PACKAGE = "pickflow"


def module_file(name: str, root: Path) -> Path | None:
    """The file of dotted module ``name`` under ``root`` (the folder holding the package), if any."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(module: str | None, path: Path) -> list[str]:
    """Dotted parts of the package that relative imports in ``path`` start from."""
    if module is None:
        return []
    parts = module.split(".")
    return parts if path.name == "__init__.py" else parts[:-1]


def imported_names(path: Path, module: str | None = None) -> set[str]:
    """Dotted names of everything ``path`` imports (anywhere in the file, relative imports resolved).

    ``module`` is the dotted name of ``path`` itself (None for a script outside any package).
    ``from a import b`` yields both ``a`` and ``a.b``: ``b`` may be a submodule.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module.split(".") if node.module else []
            if node.level:
                package = _package_of(module, path)
                base = package[: len(package) - (node.level - 1)] + base
            if base:
                names.add(".".join(base))
                names.update(".".join([*base, alias.name]) for alias in node.names)
    return names


def _with_parents(name: str) -> list[str]:
    """``a.b.c`` -> ``a``, ``a.b``, ``a.b.c`` (importing a module runs its packages' __init__ first)."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def code_dependencies(script: Path, root: Path, package: str = PACKAGE) -> list[Path]:
    """Every file of ``package`` (under ``root``) that ``script`` imports, directly or transitively."""
    found: dict[str, Path] = {}
    pending: list[tuple[Path, str | None]] = [(script, None)]
    while pending:
        path, module = pending.pop()
        for name in imported_names(path, module):
            for candidate in _with_parents(name):
                if candidate.split(".")[0] != package or candidate in found:
                    continue
                file = module_file(candidate, root)
                if file is not None:
                    found[candidate] = file
                    pending.append((file, candidate))
    return sorted(set(found.values()))


@cache
def code_digest(script: Path, root: Path) -> str:
    """SHA-256 over the script and its pickflow modules (paths relative to ``root``, then contents)."""
    digest = hashlib.sha256()
    for path in [script, *code_dependencies(script, root)]:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def digest_of(value: object) -> str:
    """SHA-256 of a JSON-serializable value (keys sorted)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def digest_of_extended(head: list) -> Callable[[object], str]:
    """A function of ``last`` that returns ``digest_of([*head, last])``, with the JSON of ``head`` hashed once
    (for the many digests that share all but their last item)."""
    text = json.dumps(head, sort_keys=True)
    start = hashlib.sha256((text[:-1] + ", " if head else "[").encode())

    def digest(last: object) -> str:
        copy = start.copy()
        copy.update((json.dumps(last, sort_keys=True) + "]").encode())
        return copy.hexdigest()

    return digest
