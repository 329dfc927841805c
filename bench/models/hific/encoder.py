"""HiFiC encoder E: image in [0, 1] -> latent y at 1/16 resolution."""
from __future__ import annotations

import torch
from torch import nn

from bench.models.hific.config import HiFiCConfig
from bench.models.hific.layers import ConvNormReLU


class Encoder(nn.Module):
    """Conv 7x7 + four stride-2 conv 3x3, each with ChannelNorm and ReLU; conv 3x3 to C."""

    def __init__(self, config: HiFiCConfig) -> None:
        super().__init__()
        widths = config.encoder_channels
        stages = [ConvNormReLU(3, widths[0], kernel_size=7)]
        stages += [ConvNormReLU(a, b, kernel_size=3, stride=2) for a, b in zip(widths, widths[1:])]
        self.stages = nn.Sequential(*stages)
        self.project = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(widths[-1], config.latent_channels, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.stages(x))
