"""HiFiC test helpers: seeded tiny models, and the HiFiC codecs the registry builds from options."""
from __future__ import annotations

import torch

from bench.codecs.hific.family_codec import HiFiCCodec
from bench.codecs.hific.options import HiFiCOptions
from bench.codecs.registry import all_codecs
from bench.models.hific.config import preset
from bench.models.hific.model import HiFiC


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


def hific_codecs(**options) -> dict[str, HiFiCCodec]:
    """The HiFiC codecs (every bitstream format) the registry builds from ``HiFiCOptions(**options)``."""
    codecs = all_codecs([HiFiCOptions(**options)])
    return {name: codec for name, codec in codecs.items() if isinstance(codec, HiFiCCodec)}
