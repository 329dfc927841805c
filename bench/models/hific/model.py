"""The HiFiC compression model: encoder, hyperprior and generator in one module.

``HiFiC.forward`` is the training/analysis view (likelihoods, not bytes).
``HiFiC.compress`` / ``HiFiC.decompress`` produce and read the real entropy-coded strings;
``bench.codecs.hific.bitstream`` wraps them in a self-describing byte format.
The discriminator lives apart (``discriminator.py``): it is not part of the codec.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from bench.models.hific.config import HiFiCConfig
from bench.models.hific.encoder import Encoder
from bench.models.hific.entropy import ambiguous_positions, scale_indexes
from bench.models.hific.generator import Generator
from bench.models.hific.hyperprior import Hyperprior


@dataclass
class HiFiCOutput:
    """Everything one forward pass computes, for losses and latent statistics."""

    x_hat: torch.Tensor
    y: torch.Tensor
    #: What the generator received: round(y - means) + means (straight-through when training).
    y_hat: torch.Tensor
    means: torch.Tensor
    scales: torch.Tensor
    #: The symbols the entropy coder codes: round(y - means).
    residual: torch.Tensor
    z: torch.Tensor
    z_hat: torch.Tensor
    #: Likelihoods of y_hat and z_hat ("y", "z"): noisy in training, of the rounded values otherwise.
    likelihoods: dict[str, torch.Tensor]


@dataclass
class LatentStrings:
    """The entropy-coded latents of one image (batch of one) and what decoding needs."""

    z_string: bytes
    y_string: bytes
    #: Spatial size of z; y is four times larger in each dimension.
    z_size: tuple[int, int]
    #: Flat positions of scales too close to a table boundary (see ``entropy.py``).
    ambiguous: list[int]


@dataclass
class EncodedLatents:
    """The encoder's side of one image (batch of one), exactly as the bitstreams code it."""

    y: torch.Tensor
    z: torch.Tensor
    z_string: bytes
    #: Decoded from ``z_string``, as the decoder will see it.
    z_hat: torch.Tensor
    #: Computed from ``z_hat`` (not from z), so the decoder recomputes the very same values.
    means: torch.Tensor
    scales: torch.Tensor

    @property
    def z_size(self) -> tuple[int, int]:
        return tuple(self.z.shape[-2:])

    @property
    def residual(self) -> torch.Tensor:
        """The symbols both bitstreams code: round(y - means)."""
        return torch.round(self.y - self.means)

    @property
    def y_hat(self) -> torch.Tensor:
        """The quantized latent the decoder recovers: residual + means."""
        return self.residual + self.means


def bpp_from_likelihoods(likelihoods: dict[str, torch.Tensor], num_pixels: int) -> torch.Tensor:
    """Estimated bits per pixel: sum of -log2(likelihood) over all latents, per image.

    ``num_pixels`` is H * W of one (unpadded) image; the result is averaged over the batch.
    This is the rate term used in training and the ``bpp_estimate`` column, never a
    substitute for the size of a real bitstream.
    """
    batch = next(iter(likelihoods.values())).shape[0]
    bits = sum(-torch.log2(values).sum() for values in likelihoods.values())
    return bits / (batch * num_pixels)


class HiFiC(nn.Module):
    def __init__(self, config: HiFiCConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.hyperprior = Hyperprior(config)
        self.generator = Generator(config)

    def forward(self, x: torch.Tensor) -> HiFiCOutput:
        """Run the whole model on images ``x`` in [0, 1] whose sides are multiples of 64."""
        y = self.encoder(x)
        hyper = self.hyperprior(y)
        residual = torch.round(y - hyper.means)
        y_hat = residual + hyper.means
        if self.training:
            # Straight-through rounding: HiFiC feeds G the rounded latent in training too.
            y_hat = y + (y_hat - y).detach()
        _, y_likelihoods = self.hyperprior.y_prior(y, hyper.scales, hyper.means)
        return HiFiCOutput(
            x_hat=self.generator(y_hat),
            y=y,
            y_hat=y_hat,
            means=hyper.means,
            scales=hyper.scales,
            residual=residual,
            z=hyper.z,
            z_hat=hyper.z_hat,
            likelihoods={"y": y_likelihoods, "z": hyper.z_likelihoods},
        )

    @torch.no_grad()
    def encode_latents(self, x: torch.Tensor) -> EncodedLatents:
        """y, the coded hyper-latent z and the entropy parameters of one image (1, 3, H, W).

        The means and scales come from the z_hat decoded from the z string, the decoder's
        own path, so that both sides use the same floats.
        """
        if x.shape[0] != 1:
            raise ValueError(f"HiFiC codes one image at a time, got a batch of {x.shape[0]}")
        y = self.encoder(x)
        z = self.hyperprior.analysis(y)
        z_string = self.hyperprior.z_prior.compress(z)[0]
        z_hat = self.hyperprior.z_prior.decompress([z_string], z.shape[-2:])
        means, scales = self.hyperprior.entropy_parameters(z_hat)
        return EncodedLatents(y, z, z_string, z_hat, means, scales)

    @torch.no_grad()
    def likelihoods(self, latents: EncodedLatents) -> dict[str, torch.Tensor]:
        """Likelihoods of the coded y and z values ("y", "z"), as ``forward`` gives them in eval mode."""
        _, y_likelihoods = self.hyperprior.y_prior(latents.y, latents.scales, latents.means, training=False)
        _, z_likelihoods = self.hyperprior.z_prior(latents.z, training=False)
        return {"y": y_likelihoods, "z": z_likelihoods}

    @torch.no_grad()
    def compress(self, x: torch.Tensor) -> tuple[LatentStrings, EncodedLatents]:
        """Entropy-code one image (1, 3, H, W), sides multiples of 64.

        Returns the strings and the encoder's latents (``latents.y_hat`` is what the
        decoder will recover).
        """
        latents = self.encode_latents(x)
        ambiguous = ambiguous_positions(latents.scales, self.config)
        indexes = scale_indexes(latents.scales, self.config, ambiguous)
        y_string = self.hyperprior.y_prior.compress(latents.y, indexes, means=latents.means)[0]
        return LatentStrings(latents.z_string, y_string, latents.z_size, ambiguous.tolist()), latents

    @torch.no_grad()
    def decoded_entropy_parameters(self, z_string: bytes, z_size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The means and scales of y from a z string, as every decoder computes them."""
        z_hat = self.hyperprior.z_prior.decompress([z_string], z_size)
        return self.hyperprior.entropy_parameters(z_hat)

    @torch.no_grad()
    def decompress_residual(self, strings: LatentStrings) -> tuple[torch.Tensor, torch.Tensor]:
        """The coded symbols round(y - means) (1, C, h, w) from their strings, and the means."""
        means, scales = self.decoded_entropy_parameters(strings.z_string, strings.z_size)
        ambiguous = torch.tensor(strings.ambiguous, dtype=torch.int64)
        indexes = scale_indexes(scales, self.config, ambiguous)
        return self.hyperprior.y_prior.decompress([strings.y_string], indexes), means

    @torch.no_grad()
    def decompress(self, strings: LatentStrings) -> torch.Tensor:
        """Recover the quantized latent y_hat = residual + means (1, C, h, w) from its strings."""
        residual, means = self.decompress_residual(strings)
        return residual + means

    def update(self, force: bool = True) -> None:
        """Build the CDF tables of both entropy models (needed before ``compress``)."""
        self.hyperprior.update(force=force)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())

