"""HiFiC's mean-scale hyperprior: z = h_a(y), z coded with a factorized prior, and two
hyper-synthesis branches giving the mean and the scale of a Gaussian for each y value."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bench._torchvision import ensure_torchvision
from bench.models.hific.config import HiFiCConfig
from bench.models.hific.entropy import coding_means, quantize, scale_table

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


class LogisticConditional(GaussianConditional):
    """CompressAI's conditional model with the logistic distribution in place of the Gaussian
    (the Justin-Tan port's ``likelihood_type logistic``): the likelihoods, the CDF tables and
    the tails all come from these two functions."""

    @staticmethod
    def _standardized_cumulative(inputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(inputs)

    @staticmethod
    def _standardized_quantile(quantile: float) -> float:
        return math.log(quantile / (1.0 - quantile))


CONDITIONALS = {"gaussian": GaussianConditional, "logistic": LogisticConditional}


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
        self.y_prior = CONDITIONALS[config.likelihood](scale_table(config), scale_bound=config.scale_min)

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

    def quantize_z(self, z: torch.Tensor) -> torch.Tensor:
        """z_hat as coded: round(z - median) + median, or round(z) for ``z_quantization: integer``
        (whose prior then has medians 0, see :meth:`update`), each with the model's rounding."""
        if self.config.z_quantization == "integer":
            return quantize(z, self.config)
        medians = self.z_prior._get_medians().detach()
        return quantize(z - medians, self.config) + medians

    def forward(self, y: torch.Tensor) -> HyperOutput:
        z = self.analysis(y)
        # Training: z + uniform noise; otherwise z quantized as coded.
        if self.training:
            z_hat, z_likelihoods = self.z_prior(z)
        else:
            z_hat = self.quantize_z(z)
            _, z_likelihoods = self.z_prior(z_hat, training=False)
        means, scales = self.entropy_parameters(z_hat)
        return HyperOutput(z=z, z_hat=z_hat, z_likelihoods=z_likelihoods, means=means, scales=scales)

    def update(self, force: bool = True) -> None:
        """Build the entropy coders' CDF tables (call after training, before saving).

        With ``z_quantization: integer`` the prior's medians are set to 0 first, so that its
        tables sit on the integers z is rounded to.
        """
        if self.config.z_quantization == "integer":
            with torch.no_grad():
                self.z_prior.quantiles[:, 0, 1] = 0.0
        self.z_prior.update(force=force)
        self.y_prior.update_scale_table(scale_table(self.config), force=force)
