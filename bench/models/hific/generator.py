"""HiFiC generator G: quantized latent y_hat -> image (about [0, 1], clamp when converting)."""
from __future__ import annotations

import torch
from torch import nn

from bench.models.hific.config import HiFiCConfig
from bench.models.hific.layers import ChannelNorm


class ResidualBlock(nn.Module):
    """x + CN(conv(ReLU(CN(conv(x))))) with 3x3 reflection-padded convolutions."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv1 = nn.Conv2d(channels, channels, 3)
        self.norm1 = ChannelNorm(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3)
        self.norm2 = ChannelNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = torch.relu(self.norm1(self.conv1(self.pad(x))))
        return x + self.norm2(self.conv2(self.pad(residual)))


class UpBlock(nn.Sequential):
    """Transposed conv 3x3 stride 2 (exact 2x upsampling), ChannelNorm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1)
        self.norm = ChannelNorm(out_channels)
        self.relu = nn.ReLU(inplace=True)


class Generator(nn.Module):
    """CN, conv 3x3, CN; residual blocks with a global skip; four 2x up blocks; conv 7x7 to RGB."""

    def __init__(self, config: HiFiCConfig) -> None:
        super().__init__()
        widths = config.generator_channels
        self.input_norm = ChannelNorm(config.latent_channels)
        self.head = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(config.latent_channels, widths[0], 3))
        self.head_norm = ChannelNorm(widths[0])
        self.blocks = nn.Sequential(*(ResidualBlock(widths[0]) for _ in range(config.residual_blocks)))
        self.up = nn.Sequential(*(UpBlock(a, b) for a, b in zip(widths, widths[1:])))
        self.output = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(widths[-1], 3, 7))

    def forward(self, y_hat: torch.Tensor) -> torch.Tensor:
        head = self.head_norm(self.head(self.input_norm(y_hat)))
        return self.output(self.up(self.blocks(head) + head))
