"""Shared fixtures for the pickflow unit tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.workflow.helpers import RunsCode

DATA = Path(__file__).resolve().parents[1] / "data"
REAL_MRC = DATA / "Ucsf_stack_1142_DW.mrc"
REAL_STAR = DATA / "Ucsf_stack_1142_DW_autopick.star"


@pytest.fixture(autouse=True, scope="session")
def _single_torch_thread():
    """Keep torch on one thread: the test machine is small and shared."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency of pickflow
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def real_mrc() -> Path:
    return REAL_MRC


@pytest.fixture
def real_star() -> Path:
    return REAL_STAR


@pytest.fixture
def code_payload(tmp_path) -> tuple[object, Path]:
    """An object whose unpickling would create the returned marker file."""
    marker = tmp_path / "code_ran"
    return RunsCode(marker), marker
