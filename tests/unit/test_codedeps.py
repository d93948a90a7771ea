"""The code dependencies of a script, found from its imports (absolute, relative, nested, transitive)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pickflow.workflow.codedeps import code_dependencies, code_digest

REPO = Path(__file__).resolve().parents[2]


def _names(script: str) -> set[str]:
    """The script's pickflow files, relative to the package (``models/unet.py``)."""
    return {p.relative_to(REPO / "pickflow").as_posix() for p in code_dependencies(REPO / "scripts" / script, REPO)}


MODEL_MODULES = {
    "models/__init__.py",
    "models/architecture.py",
    "models/base.py",
    "models/topaz.py",
    "models/unet.py",
    "models/modelfile.py",
}


def test_training_script_depends_on_every_model_module():
    names = _names("train.py")
    assert (
        MODEL_MODULES
        | {
            "training/loop.py",
            "models/device.py",
            "training/losses.py",
            "training/sampling.py",
            "training/prior.py",
            "__init__.py",
        }
        <= names
    )


def test_scoring_depends_on_the_unet_but_preprocessing_does_not():
    assert MODEL_MODULES | {"picking/scoring.py", "models/device.py", "picking/extract.py"} <= _names("score.py")
    preprocess = _names("preprocess.py")
    assert (
        "preprocess/image.py" in preprocess
        and not {"models/unet.py", "models/topaz.py", "training/loop.py"} & preprocess
    )


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


def _models_package(root: Path) -> Path:
    """A package like pickflow's: a models subpackage whose __init__ re-exports names of its modules."""
    pkg = root / "pickflow"
    models = pkg / "models"
    models.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "training.py").write_text("from .models import build\nfrom .models.unet import UNet\n")
    (pkg / "scoring.py").write_text("from .models import Config\n")
    (models / "__init__.py").write_text("from .config import Config\nfrom .files import build\n")
    (models / "config.py").write_text("from .. import errors\n")
    (models / "files.py").write_text("from . import topaz\nfrom .unet import UNet\n")
    (models / "topaz.py").write_text("from ..errors import *\n")
    (models / "unet.py").write_text("from pickflow.models.config import Config\n")
    (models / "unused.py").write_text("")
    (root / "train.py").write_text("from pickflow.training import *\n")
    (root / "score.py").write_text("import pickflow.scoring\n")
    (root / "plain.py").write_text("from pickflow import errors\n")
    return models


def test_package_imports_and_init_re_exports_are_followed(tmp_path):
    _models_package(tmp_path)

    def found(script: str) -> list[str]:
        return [p.relative_to(tmp_path / "pickflow").as_posix() for p in code_dependencies(tmp_path / script, tmp_path)]

    every_model = ["models/__init__.py", "models/config.py", "models/files.py", "models/topaz.py", "models/unet.py"]
    assert found("train.py") == ["__init__.py", "errors.py", *every_model, "training.py"]
    # Importing one re-exported name runs the package's __init__, so every module it imports counts.
    assert found("score.py") == ["__init__.py", "errors.py", *every_model, "scoring.py"]
    assert found("plain.py") == ["__init__.py", "errors.py"]


@pytest.mark.parametrize("module", ["models/unet.py", "models/topaz.py", "models/config.py", "models/__init__.py"])
def test_editing_a_model_module_changes_the_training_and_scoring_digests_only(tmp_path, module):
    models = _models_package(tmp_path)
    scripts = ("train.py", "score.py", "plain.py")
    code_digest.cache_clear()
    before = {name: code_digest(tmp_path / name, tmp_path) for name in scripts}
    edited = models.parent / module
    edited.write_text(edited.read_text() + "# an edit\n")
    code_digest.cache_clear()
    after = {name: code_digest(tmp_path / name, tmp_path) for name in scripts}
    assert [name for name in scripts if after[name] != before[name]] == ["train.py", "score.py"]


def test_editing_the_real_unet_module_changes_the_training_and_scoring_digests(tmp_path):
    """The same on a copy of this checkout's scripts and package."""
    shutil.copytree(REPO / "pickflow", tmp_path / "pickflow", ignore=shutil.ignore_patterns("__pycache__", "*.pt"))
    shutil.copytree(REPO / "scripts", tmp_path / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    scripts = ("train.py", "score.py", "preprocess.py", "plots.py")
    code_digest.cache_clear()
    before = {name: code_digest(tmp_path / "scripts" / name, tmp_path) for name in scripts}
    unet = tmp_path / "pickflow" / "models" / "unet.py"
    unet.write_text(unet.read_text() + "# an edit\n")
    code_digest.cache_clear()
    after = {name: code_digest(tmp_path / "scripts" / name, tmp_path) for name in scripts}
    assert [name for name in scripts if after[name] != before[name]] == ["train.py", "score.py"]


def test_a_digest_extended_by_one_item_equals_the_digest_of_the_whole_list():
    from pickflow.workflow.codedeps import digest_of, digest_of_extended

    head = [{"b": [1, 2.5, None], "a": "x"}, "code"]
    for last in ["f" * 64, {"k": 1}, None]:
        assert digest_of_extended(head)(last) == digest_of([*head, last])
    assert digest_of_extended([])("only") == digest_of(["only"])
