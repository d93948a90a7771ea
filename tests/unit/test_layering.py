"""The package's layers: imports only go downward, from the command and the steps through the workflow's machinery
and the stages to input/output at the bottom (README.md's layout map shows them). Imports inside functions count too.
A new module needs a place in LAYERS: test_every_module_has_a_layer names the modules that have none."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pickflow.workflow.codedeps import imported_names, module_file

REPO = Path(__file__).resolve().parents[2]

# Bottom to top: a module imports its own layer and those below it, never one above.
LAYERS: list[tuple[str, set[str]]] = [
    (
        "the bottom: errors, schema, progress, input/output and records",
        {"pickflow", "pickflow.errors", "pickflow.schema", "pickflow.progress", "pickflow.io"},
    ),
    ("the preprocess stage", {"pickflow.preprocess"}),
    ("the networks", {"pickflow.models"}),
    ("the pick stage (training evaluates with it)", {"pickflow.picking"}),
    ("the labels, train and cv stages", {"pickflow.training"}),
    ("the report stage", {"pickflow.report"}),
    ("the simulator (test and benchmark data)", {"pickflow.simulate"}),
    ("the workflow's machinery (parse time, watch)", {"pickflow.workflow"}),
    ("the steps", {"pickflow.steps"}),
    ("the command", {"pickflow.cli", "pickflow.__main__"}),
]
STAGES = {"pickflow.preprocess", "pickflow.models", "pickflow.picking", "pickflow.training", "pickflow.report"}


def _module(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(path): path for path in sorted((REPO / "pickflow").rglob("*.py"))}


def _layer(module: str) -> int | None:
    for rank, (_, members) in enumerate(LAYERS):
        if module in members or ".".join(module.split(".")[:2]) in members:
            return rank
    return None


def _imported_modules(module: str) -> set[str]:
    """The pickflow modules ``module`` imports (``from a import b``: ``a.b`` when b is a module, else ``a``)."""
    found = set()
    for name in imported_names(MODULES[module], module):
        parts = name.split(".")
        if parts[0] != "pickflow":
            continue
        prefixes = (".".join(parts[:n]) for n in range(len(parts), 0, -1))
        found.add(next(p for p in prefixes if module_file(p, REPO) is not None))
    return found - {module}


def test_every_module_has_a_layer():
    assert [m for m in MODULES if _layer(m) is None] == [], "give these modules a layer in LAYERS"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_go_downward(module):
    here = _layer(module)
    if here is None:
        pytest.skip("no layer (test_every_module_has_a_layer fails)")
    upward = {m: LAYERS[_layer(m)][0] for m in _imported_modules(module) if (_layer(m) or 0) > here}
    assert upward == {}, f"{module} ({LAYERS[here][0]}) imports from layers above it"


def test_the_bottom_imports_no_stage():
    bottom = [m for m in MODULES if _layer(m) == 0]
    assert {m: sorted(_imported_modules(m) - set(bottom)) for m in bottom if _imported_modules(m) - set(bottom)} == {}
    assert not any(_layer(s) == 0 for s in STAGES)


def test_the_workflow_parse_imports_no_torch():
    """The Snakefile and workflow/rules/*.smk import pickflow modules at every parse: none of them (nor a stage
    package's __init__ on the way) may load torch."""
    imports = [
        line.split("#")[0].strip()
        for source in [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
        for line in source.read_text().splitlines()
        if re.match(r"\s*(from|import) pickflow\b", line)
    ]
    assert len(imports) > 3
    code = "\n".join([*imports, "import sys", "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"])
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", imports
