"""Fixtures for the metric tests (data and weights folders come from tests/conftest.py)."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench._torchvision import ensure_torchvision

# The tests import lpips / torchvision / torch_fidelity directly, as users would after this call.
ensure_torchvision()


@pytest.fixture(scope="session")
def jpeg():
    """``jpeg(image, quality)``: the image encoded as JPEG at that quality and decoded again."""

    def round_trip(image: np.ndarray, quality: int) -> np.ndarray:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
        return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))

    return round_trip


REFERENCES = Path(__file__).resolve().parents[1] / "fixtures" / "metric_references"


@pytest.fixture(scope="session")
def reference_pair():
    """``reference_pair(reference_file, distorted_file)``: the two images of tests/fixtures/metric_references
    as H x W float64 grey planes in [0, 255] (``'L'``, as the sources that publish their values read them)."""

    def load(reference: str, distorted: str) -> tuple[np.ndarray, np.ndarray]:
        return tuple(np.asarray(Image.open(REFERENCES / name).convert("L"), np.float64) for name in (reference, distorted))

    return load
