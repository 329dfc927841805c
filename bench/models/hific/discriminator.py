"""HiFiC's conditional PatchGAN discriminator D (used for training only).

As in the official TF code: the latent is projected by a 3x3 convolution, upsampled to the
image size (nearest neighbour) and concatenated to the image; then 4x4 convolutions, three
with stride 2, all with spectral norm and leaky ReLU (0.2), end in one logit per patch.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from bench.models.hific.config import HiFiCConfig


class Discriminator(nn.Module):
    def __init__(self, config: HiFiCConfig) -> None:
        super().__init__()
        widths = config.discriminator_channels
        self.context = spectral_norm(nn.Conv2d(config.latent_channels, config.discriminator_latent_channels, 3, padding=1))
        in_channels = [3 + config.discriminator_latent_channels, *widths[:-1]]
        strides = [2] * (len(widths) - 1) + [1]
        self.convs = nn.ModuleList(
            spectral_norm(nn.Conv2d(a, b, 4, stride=s, padding=1 if s == 2 else "same"))
            for a, b, s in zip(in_channels, widths, strides)
        )
        self.logits = spectral_norm(nn.Conv2d(widths[-1], 1, 4, padding="same"))

    def forward(self, image: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        """Per-patch logits (B, 1, H/8, W/8) for ``image`` given the quantized ``latent``."""
        context = F.leaky_relu(self.context(latent), 0.2)
        context = F.interpolate(context, size=image.shape[-2:], mode="nearest")
        x = torch.cat([image, context], dim=1)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        return self.logits(x)
