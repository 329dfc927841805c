"""Building blocks shared by the HiFiC networks."""
from __future__ import annotations

import torch
from torch import nn


def channel_norm(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, eps: float) -> torch.Tensor:
    """HiFiC's channel normalisation of ``x`` (N, C, H, W): each pixel's feature vector minus its
    mean over channels, over the square root of its unbiased variance plus ``eps``, then
    ``* scale + shift`` (both broadcast as (1, C, 1, 1))."""
    mean = x.mean(dim=1, keepdim=True)
    variance = x.var(dim=1, keepdim=True, unbiased=True)
    return (x - mean) * torch.rsqrt(variance + eps) * scale + shift


class ChannelNorm(nn.Module):
    """Normalise each pixel's feature vector over channels, then scale and shift per channel.

    HiFiC's replacement for instance norm (which behaves differently on 256x256 training
    crops and full-size test images). As in the official TF code and the Justin-Tan port,
    the variance is the unbiased one (divide by C - 1) and ``eps`` is 1e-3.
    """

    def __init__(self, channels: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_norm(x, self.weight.view(1, -1, 1, 1), self.bias.view(1, -1, 1, 1), self.eps)


class ConvNormReLU(nn.Sequential):
    """Reflection pad, convolution, ChannelNorm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> None:
        if stride == 1:
            pad = nn.ReflectionPad2d(kernel_size // 2)
        else:
            # Same layout as the Justin-Tan port (one row on top, one column on the right),
            # so that its checkpoints give the same outputs here.
            pad = nn.ReflectionPad2d((0, 1, 1, 0))
        super().__init__()
        self.pad = pad
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride)
        self.norm = ChannelNorm(out_channels)
        self.relu = nn.ReLU(inplace=True)
