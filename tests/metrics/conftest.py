"""Fixtures for the metric tests: the shared data and weights folders, and small images."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench._torchvision import ensure_torchvision
from bench.imageio import read_image

# The tests import lpips / torchvision / torch_fidelity directly, as users would after this call.
ensure_torchvision()

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return Path(os.environ.get("BENCH_DATA_DIR", SHARED / "datasets"))


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    return Path(os.environ.get("BENCH_WEIGHTS_DIR", SHARED / "weights"))


@pytest.fixture(scope="session")
def kodim01(data_dir: Path) -> np.ndarray:
    return read_image(data_dir / "kodak" / "kodim01.png")


@pytest.fixture(scope="session")
def jpeg():
    """``jpeg(image, quality)``: the image encoded as JPEG at that quality and decoded again."""

    def round_trip(image: np.ndarray, quality: int) -> np.ndarray:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
        return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))

    return round_trip
