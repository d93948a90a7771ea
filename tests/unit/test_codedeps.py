"""The code dependencies of a script, found from its imports (absolute, relative, nested, transitive)."""

from __future__ import annotations

from pathlib import Path

from pickflow.codedeps import code_dependencies, code_digest

REPO = Path(__file__).resolve().parents[2]


def _names(script: str) -> set[str]:
    return {p.name for p in code_dependencies(REPO / "scripts" / script, REPO)}


def test_training_script_depends_on_every_model_module():
    names = _names("train.py")
    assert {"training.py", "models.py", "unet.py", "losses.py", "sampling.py", "prior.py", "__init__.py"} <= names


def test_scoring_depends_on_the_unet_but_preprocessing_does_not():
    assert {"scoring.py", "models.py", "unet.py", "extract.py"} <= _names("score.py")
    preprocess = _names("preprocess.py")
    assert "preprocess.py" in preprocess and not {"unet.py", "models.py", "training.py"} & preprocess


def _package(root: Path) -> Path:
    pkg = root / "pickflow"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import f\n")
    (pkg / "b.py").write_text("def f():\n    from . import c\n")  # an import inside a function
    (pkg / "c.py").write_text("import pickflow.sub.d\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "d.py").write_text("from ..e import g\n")
    (pkg / "e.py").write_text("import numpy\n")
    (pkg / "unused.py").write_text("")
    script = root / "script.py"
    script.write_text("import json\nfrom pickflow import a\n")
    return script


def test_imports_are_followed_transitively_through_relative_and_nested_imports(tmp_path):
    script = _package(tmp_path)
    found = [p.relative_to(tmp_path / "pickflow").as_posix() for p in code_dependencies(script, tmp_path)]
    assert found == ["__init__.py", "a.py", "b.py", "c.py", "e.py", "sub/__init__.py", "sub/d.py"]


def test_the_digest_follows_the_content_of_an_imported_module(tmp_path):
    script = _package(tmp_path)
    before = code_digest(script, tmp_path)
    (tmp_path / "pickflow" / "unused.py").write_text("x = 1\n")
    code_digest.cache_clear()
    assert code_digest(script, tmp_path) == before
    (tmp_path / "pickflow" / "e.py").write_text("import numpy  # edited\n")
    code_digest.cache_clear()
    assert code_digest(script, tmp_path) != before


def test_a_digest_extended_by_one_item_equals_the_digest_of_the_whole_list():
    from pickflow.codedeps import digest_of, digest_of_extended

    head = [{"b": [1, 2.5, None], "a": "x"}, "code"]
    for last in ["f" * 64, {"k": 1}, None]:
        assert digest_of_extended(head)(last) == digest_of([*head, last])
    assert digest_of_extended([])("only") == digest_of(["only"])
