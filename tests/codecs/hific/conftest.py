"""Seeded random-weight HiFiC models of the tiny preset, with CDF tables built."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.codecs.hific.config import preset
from bench.codecs.hific.model import HiFiC


def make_tiny_model(seed: int = 0, **config_changes) -> HiFiC:
    """A tiny HiFiC with seeded random weights, in eval mode, tables updated.

    The scale branch's output bias is raised to 3 so that the random prior roughly fits
    the random latents (scales ~3 vs latents of std ~0.3): with scales at the 0.11 floor
    most values would be escape-coded outliers and no estimate could match the bytes.
    """
    torch.manual_seed(seed)
    model = HiFiC(preset("tiny").replace(**config_changes)).eval()
    with torch.no_grad():
        model.hyperprior.synthesis_scale.conv3.bias.fill_(3.0)
    model.update()
    return model


@pytest.fixture
def make_model():
    """The :func:`make_tiny_model` factory, for tests that need other seeds or settings."""
    return make_tiny_model


@pytest.fixture
def tiny_model() -> HiFiC:
    return make_tiny_model()


@pytest.fixture(scope="session")
def kodim01_crop(kodim01: np.ndarray) -> np.ndarray:
    """A 256 x 384 crop of kodim01 (moderate size: the header is small next to the strings)."""
    return np.ascontiguousarray(kodim01[:256, :384])
