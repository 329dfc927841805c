"""Shared fixtures: local copies of datasets and weights from ../shared (or the env settings)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"

# The documented settings; CI and developers have ../shared beside the checkout.
os.environ.setdefault("BENCH_DATA_DIR", str(SHARED / "datasets"))
os.environ.setdefault("BENCH_WEIGHTS_DIR", str(SHARED / "weights"))


def local_copy(variable: str) -> Path:
    """The folder ``variable`` names; a missing one fails the test saying both ways to provide it."""
    folder = Path(os.environ[variable])
    if not folder.is_dir():
        pytest.fail(
            f"{variable}={folder} is not a folder: check the repository out beside the shared folder (../shared, with "
            "datasets/ and weights/), or set BENCH_DATA_DIR and BENCH_WEIGHTS_DIR to local copies",
            pytrace=False,
        )
    return folder


def pytest_report_header() -> str:
    return f"datasets: {os.environ['BENCH_DATA_DIR']}, weights: {os.environ['BENCH_WEIGHTS_DIR']}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A condition, not a default marker expression: `-m "not slow"` must still leave the GPU tests out here.
    import torch

    if torch.cuda.is_available():
        return
    no_gpu = pytest.mark.skip(reason="needs a GPU that torch sees (benchmarks/gpu_check.sh runs these on one)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(no_gpu)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return local_copy("BENCH_DATA_DIR")


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    return local_copy("BENCH_WEIGHTS_DIR")


@pytest.fixture(scope="session")
def kodak_dir(data_dir: Path) -> Path:
    return data_dir / "kodak"


@pytest.fixture(scope="session")
def kodim01(kodak_dir: Path) -> np.ndarray:
    from bench.imageio import read_image

    return read_image(kodak_dir / "kodim01.png")


@pytest.fixture(scope="session")
def kodim01_crop(kodim01: np.ndarray) -> np.ndarray:
    """A 256 x 384 crop of kodim01 (moderate size: a HiFiC header is small next to its strings)."""
    return np.ascontiguousarray(kodim01[:256, :384])


@pytest.fixture
def make_model():
    """:func:`hific_helpers.make_tiny_model`, for tests that need other seeds or settings."""
    from hific_helpers import make_tiny_model

    return make_tiny_model


@pytest.fixture
def tiny_model(make_model):
    """A seeded random-weight HiFiC of the tiny preset, with CDF tables built."""
    return make_model()

