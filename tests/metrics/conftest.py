"""Fixtures for the metric tests (data and weights folders come from tests/conftest.py)."""
from __future__ import annotations

import io

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
