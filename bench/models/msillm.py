"""The mean-scale hyperprior autoencoder of MS-ILLM and its no-GAN models (Muckley et al., ICML 2023).

The network NeuralCompression's ``HiFiCAutoencoder`` builds (release 0.3.1), written here with
the same module names, so that the authors' checkpoints (``msillm_target_*.ckpt``,
``noganms_target_*.ckpt``) load with ``load_state_dict`` as they are:

- ``encoder.blocks``: a 7x7 convolution to 60 channels, four stride-2 3x3 convolutions
  (120, 240, 480, 960), each followed by a channel norm and a ReLU, then a 3x3 convolution to
  the latent (220 channels): a downsampling factor of 16.
- ``hyper_analysis``: 3x3 convolution, then two stride-2 5x5 convolutions (320 channels), ReLUs
  between; ``hyper_synthesis_mean`` / ``hyper_synthesis_scale``: two stride-2 5x5 transposed
  convolutions and a 3x3 convolution back to 220 channels. The hyper latent is coded by an
  ``EntropyBottleneck`` (``hyper_bottleneck``), the latent by a ``GaussianConditional``
  (``latent_bottleneck``) given the predicted means and scales: the whole factor is 64.
- ``decoder``: channel norm and a 3x3 convolution to 960 channels (``block_0``), residual blocks
  whose sum is added to their input once more, four stride-2 transposed convolutions back to
  60 channels and a 7x7 convolution to the image.

Channel norms keep their parameters as ``gamma`` / ``beta`` of shape (1, C, 1, 1), as there.
:meth:`MSILLMAutoencoder.compress` / :meth:`~MSILLMAutoencoder.decompress` have CompressAI's
contract (strings ``[latent, hyper latent]``, ``shape`` the hyper latent's) and do what the
authors' ``compress`` / ``decompress`` do on an image already padded to a multiple of 64.
"""
from __future__ import annotations

from typing import Any

import torch
from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from compressai.models import CompressionModel
from torch import nn

from bench.models.hific.layers import channel_norm

#: Downsampling factor of the whole autoencoder (an image is padded to a multiple of it).
FACTOR = 64
ENCODER_CHANNELS = (60, 120, 240, 480, 960)


class ChannelNorm2D(nn.Module):
    """HiFiC's channel norm (unbiased variance, eps 1e-3) with NeuralCompression's parameter names."""

    def __init__(self, channels: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_norm(x, self.gamma, self.beta, self.eps)


def _conv(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2)


def _upconv(in_channels: int, out_channels: int, kernel_size: int) -> nn.ConvTranspose2d:
    """A stride-2 transposed convolution that exactly doubles height and width."""
    return nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=2, padding=kernel_size // 2, output_padding=1)


class Encoder(nn.Module):
    def __init__(self, latent_features: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        in_channels = 3
        for index, channels in enumerate(ENCODER_CHANNELS):
            conv = _conv(in_channels, channels, 7) if index == 0 else _conv(in_channels, channels, 3, stride=2)
            blocks.append(nn.Sequential(conv, ChannelNorm2D(channels), nn.ReLU()))
            in_channels = channels
        blocks.append(_conv(in_channels, latent_features, 3))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.sequence = nn.Sequential(
            _conv(channels, channels, 3), ChannelNorm2D(channels), nn.ReLU(), _conv(channels, channels, 3), ChannelNorm2D(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.sequence(x)


class Generator(nn.Module):
    def __init__(self, latent_features: int, residual_blocks: int) -> None:
        super().__init__()
        widths = ENCODER_CHANNELS[::-1]
        self.block_0 = nn.Sequential(ChannelNorm2D(latent_features), _conv(latent_features, widths[0], 3), ChannelNorm2D(widths[0]))
        self.resid_blocks = nn.Sequential(*(ResidualBlock(widths[0]) for _ in range(residual_blocks)))
        blocks: list[nn.Module] = [
            nn.Sequential(_upconv(in_channels, channels, 3), ChannelNorm2D(channels), nn.ReLU())
            for in_channels, channels in zip(widths, widths[1:])
        ]
        blocks.append(_conv(widths[-1], 3, 7))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        x = self.block_0(latent)
        # As the authors' generator: the residual stack's output is added to its input again.
        return self.blocks(x + self.resid_blocks(x))


def _hyper_synthesis(hyper_features: int, latent_features: int) -> nn.Sequential:
    return nn.Sequential(
        _upconv(hyper_features, hyper_features, 5), nn.ReLU(inplace=True),
        _upconv(hyper_features, hyper_features, 5), nn.ReLU(inplace=True),
        _conv(hyper_features, latent_features, 3),
    )


class MSILLMAutoencoder(CompressionModel):
    """MS-ILLM's autoencoder (the defaults are the published models' sizes)."""

    def __init__(self, latent_features: int = 220, hyper_features: int = 320, residual_blocks: int = 9) -> None:
        super().__init__()
        self.encoder = Encoder(latent_features)
        self.decoder = Generator(latent_features, residual_blocks)
        self.hyper_analysis = nn.Sequential(
            _conv(latent_features, hyper_features, 3), nn.ReLU(inplace=True),
            _conv(hyper_features, hyper_features, 5, stride=2), nn.ReLU(inplace=True),
            _conv(hyper_features, hyper_features, 5, stride=2),
        )
        self.hyper_synthesis_mean = _hyper_synthesis(hyper_features, latent_features)
        self.hyper_synthesis_scale = _hyper_synthesis(hyper_features, latent_features)
        self.hyper_bottleneck = EntropyBottleneck(hyper_features)
        self.latent_bottleneck = GaussianConditional(scale_table=None)

    def _means_and_scales(self, hyper_latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.hyper_synthesis_mean(hyper_latent), self.hyper_synthesis_scale(hyper_latent)

    def forward(self, x: torch.Tensor) -> dict[str, Any]:
        """Reconstruction and likelihoods of a padded image (in eval mode: of the rounded latents)."""
        latent = self.encoder(x)
        hyper_latent, hyper_likelihoods = self.hyper_bottleneck(self.hyper_analysis(latent))
        means, scales = self._means_and_scales(hyper_latent)
        quantised, latent_likelihoods = self.latent_bottleneck(latent, scales, means=means)
        return {"x_hat": self.decoder(quantised), "likelihoods": {"y": latent_likelihoods, "z": hyper_likelihoods}}

    def compress(self, x: torch.Tensor) -> dict[str, Any]:
        """Strings ``[latent strings, hyper latent strings]`` of an image padded to a multiple of 64."""
        latent = self.encoder(x)
        hyper_latent = self.hyper_analysis(latent)
        hyper_strings = self.hyper_bottleneck.compress(hyper_latent)
        shape = hyper_latent.shape[-2:]
        means, scales = self._means_and_scales(self.hyper_bottleneck.decompress(hyper_strings, shape))
        indexes = self.latent_bottleneck.build_indexes(scales)
        latent_strings = self.latent_bottleneck.compress(latent, indexes, means=means)
        return {"strings": [latent_strings, hyper_strings], "shape": shape}

    def decompress(self, strings: list[list[bytes]], shape: Any) -> dict[str, torch.Tensor]:
        """The padded reconstruction (not clamped) of :meth:`compress`'s strings."""
        latent_strings, hyper_strings = strings
        means, scales = self._means_and_scales(self.hyper_bottleneck.decompress(hyper_strings, shape))
        indexes = self.latent_bottleneck.build_indexes(scales)
        latent = self.latent_bottleneck.decompress(latent_strings, indexes, means=means)
        return {"x_hat": self.decoder(latent)}
