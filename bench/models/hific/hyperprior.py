"""HiFiC's mean-scale hyperprior: z = h_a(y), z coded with a factorized prior, and two
hyper-synthesis branches giving the mean and the scale of a Gaussian for each y value."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bench._torchvision import ensure_torchvision
from bench.models.hific.config import HiFiCConfig
from bench.models.hific.entropy import coding_means, scale_table

ensure_torchvision()
from compressai.entropy_models import EntropyBottleneck, GaussianConditional  # noqa: E402


class HyperAnalysis(nn.Module):
    """conv 3x3 (N), ReLU, conv 5x5 stride 2 (N), ReLU, conv 5x5 stride 2 (N)."""

    def __init__(self, latent_channels: int, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(latent_channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 5, stride=2)
        self.conv3 = nn.Conv2d(channels, channels, 5, stride=2)

    @staticmethod
    def _pad(x: torch.Tensor) -> torch.Tensor:
        # Reflection (as in the Justin-Tan port) needs more than 2 pixels; images of at most
        # 64 pixels in a side reach the last conv with 2, and fall back to edge replication.
        mode = "reflect" if min(x.shape[-2:]) > 2 else "replicate"
        return F.pad(x, (2, 2, 2, 2), mode=mode)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(y))
        x = torch.relu(self.conv2(self._pad(x)))
        return self.conv3(self._pad(x))


class HyperSynthesis(nn.Module):
    """Two transposed conv 5x5 stride 2 (N) with ReLU, then transposed conv 3x3 to C."""

    def __init__(self, latent_channels: int, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.ConvTranspose2d(channels, channels, 5, stride=2, padding=2, output_padding=1)
        self.conv2 = nn.ConvTranspose2d(channels, channels, 5, stride=2, padding=2, output_padding=1)
        self.conv3 = nn.ConvTranspose2d(channels, latent_channels, 3, padding=1)

    def forward(self, z_hat: torch.Tensor) -> torch.Tensor:
        return self.conv3(torch.relu(self.conv2(torch.relu(self.conv1(z_hat)))))


class FactorizedPrior(EntropyBottleneck):
    """CompressAI's EntropyBottleneck, optionally with a tanh factor after its last layer.

    The extra factor exists only to hold the Justin-Tan port's ``a_3`` parameter exactly.
    """

    def __init__(self, channels: int, filters: tuple[int, ...], final_factor: bool = False) -> None:
        super().__init__(channels, filters=filters)
        self.final_factor = nn.Parameter(torch.zeros(channels, 1, 1)) if final_factor else None

    def _logits_cumulative(self, inputs: torch.Tensor, stop_gradient: bool) -> torch.Tensor:
        logits = super()._logits_cumulative(inputs, stop_gradient)
        if self.final_factor is None:
            return logits
        factor = self.final_factor.detach() if stop_gradient else self.final_factor
        return logits + torch.tanh(factor) * torch.tanh(logits)


@dataclass
class HyperOutput:
    z: torch.Tensor
    z_hat: torch.Tensor
    z_likelihoods: torch.Tensor
    means: torch.Tensor
    scales: torch.Tensor


class Hyperprior(nn.Module):
    def __init__(self, config: HiFiCConfig) -> None:
        super().__init__()
        self.config = config
        self.analysis = HyperAnalysis(config.latent_channels, config.hyper_channels)
        self.synthesis_mean = HyperSynthesis(config.latent_channels, config.hyper_channels)
        self.synthesis_scale = HyperSynthesis(config.latent_channels, config.hyper_channels)
        self.z_prior = FactorizedPrior(config.hyper_channels, config.z_prior_filters, final_factor=config.z_prior_final_factor)
        self.y_prior = GaussianConditional(scale_table(config), scale_bound=config.scale_min)

    def entropy_parameters(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means and scales of y given the decoded hyper-latent.

        Outside training the means are rounded to the coding grid (see ``entropy.py``), so
        that encoder and decoder use bit-identical means. Scales are the raw network output;
        the Gaussian model bounds them below by ``scale_min``.
        """
        means = self.synthesis_mean(z_hat)
        scales = self.synthesis_scale(z_hat)
        if not self.training:
            means = coding_means(means, self.config)
        return means, scales

    def forward(self, y: torch.Tensor) -> HyperOutput:
        z = self.analysis(y)
        # Training: z + uniform noise; otherwise z rounded about the prior's medians, as coded.
        z_hat, z_likelihoods = self.z_prior(z)
        means, scales = self.entropy_parameters(z_hat)
        return HyperOutput(z=z, z_hat=z_hat, z_likelihoods=z_likelihoods, means=means, scales=scales)

    def update(self, force: bool = True) -> None:
        """Build the entropy coders' CDF tables (call after training, before saving)."""
        self.z_prior.update(force=force)
        self.y_prior.update_scale_table(scale_table(self.config), force=force)
