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
from bench.models.hific.entropy import ambiguous_positions, quantize, scale_indexes
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

    #: The encoder's output (padded as the model's ``padding`` rule says).
    y: torch.Tensor
    z: torch.Tensor
    z_string: bytes
    #: Decoded from ``z_string``, as the decoder will see it.
    z_hat: torch.Tensor
    #: Computed from ``z_hat`` (not from z), so the decoder recomputes the very same values.
    means: torch.Tensor
    scales: torch.Tensor
    #: The symbols both bitstreams code: y - means rounded by the model's rule.
    residual: torch.Tensor

    @property
    def z_size(self) -> tuple[int, int]:
        return tuple(self.z.shape[-2:])

    @property
    def y_hat(self) -> torch.Tensor:
        """The quantized latent the decoder recovers: residual + means."""
        return self.residual + self.means


def bpp_from_likelihoods(likelihoods: dict[str, torch.Tensor], num_pixels: int, epsilon: float = 0.0) -> torch.Tensor:
    """Estimated bits per pixel: sum of -log2(likelihood + epsilon) over all latents, per image.

    ``num_pixels`` is H * W of one (unpadded) image; the result is averaged over the batch.
    ``epsilon`` is the model's ``likelihood_epsilon`` (0 for ours; the port's estimates add 1e-9).
    This is the rate term used in training and the ``bpp_estimate`` column, never a
    substitute for the size of a real bitstream.
    """
    batch = next(iter(likelihoods.values())).shape[0]
    bits = sum(-torch.log2(values + epsilon).sum() for values in likelihoods.values())
    return bits / (batch * num_pixels)


class HiFiC(nn.Module):
    def __init__(self, config: HiFiCConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.hyperprior = Hyperprior(config)
        self.generator = Generator(config)

    def encode_input(self, x: torch.Tensor) -> torch.Tensor:
        """y = E(x) for images ``x`` in [0, 1] (the encoder sees 2x - 1 with ``normalize_input``)."""
        return self.encoder(2.0 * x - 1.0 if self.config.normalize_input else x)

    def synthesize(self, y_hat: torch.Tensor) -> torch.Tensor:
        """The generator's image for ``y_hat``, in [0, 1] where the model is right (unclamped)."""
        x_hat = self.generator(y_hat)
        return (torch.tanh(x_hat) + 1.0) / 2.0 if self.config.normalize_input else x_hat

    def forward(self, x: torch.Tensor) -> HiFiCOutput:
        """Run the whole model on images ``x`` in [0, 1] whose sides are multiples of 64."""
        y = self.encode_input(x)
        hyper = self.hyperprior(y)
        residual = quantize(y - hyper.means, self.config)
        y_hat = residual + hyper.means
        if self.training:
            # Straight-through rounding: HiFiC feeds G the rounded latent in training too.
            y_hat = y + (y_hat - y).detach()
        _, y_likelihoods = self.hyperprior.y_prior(y, hyper.scales, hyper.means)
        return HiFiCOutput(
            x_hat=self.synthesize(y_hat),
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
        """y, the coded hyper-latent z and the entropy parameters of one image (1, 3, H, W),
        padded as the model's ``padding`` rule says (see ``bench.codecs.hific.container``).

        The means and scales come from the z_hat decoded from the z string, the decoder's
        own path, so that both sides use the same floats.
        """
        if x.shape[0] != 1:
            raise ValueError(f"HiFiC codes one image at a time, got a batch of {x.shape[0]}")
        y = pad_latent(self.encode_input(x), self.config)
        z = self.hyperprior.analysis(y)
        z_string = self.hyperprior.z_prior.compress(self.hyperprior.quantize_z(z))[0]
        z_hat = self.hyperprior.z_prior.decompress([z_string], z.shape[-2:])
        means, scales = self.hyperprior.entropy_parameters(z_hat)
        return EncodedLatents(y, z, z_string, z_hat, means, scales, quantize(y - means, self.config))

    @torch.no_grad()
    def likelihoods(self, latents: EncodedLatents) -> dict[str, torch.Tensor]:
        """Likelihoods of the coded y and z values ("y", "z")."""
        _, y_likelihoods = self.hyperprior.y_prior(latents.y_hat, latents.scales, latents.means, training=False)
        _, z_likelihoods = self.hyperprior.z_prior(latents.z_hat, training=False)
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
        # The residual symbols themselves (rounded by the model's rule), with no means to subtract.
        y_string = self.hyperprior.y_prior.compress(latents.residual, indexes)[0]
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


def pad_latent(y: torch.Tensor, config: HiFiCConfig) -> torch.Tensor:
    """y reflected to multiples of 4 (the hyper-analysis downsamples twice) under the ``reflect16``
    rule, whose images are padded to multiples of 16 only; unchanged otherwise."""
    if config.padding != "reflect16":
        return y
    height, width = y.shape[-2:]
    return reflect_pad(y, (-height) % 4, (-width) % 4)


def reflect_pad(x: torch.Tensor, bottom: int, right: int) -> torch.Tensor:
    """``x`` reflected by ``bottom`` rows and ``right`` columns (the Justin-Tan port's padding)."""
    if bottom >= x.shape[-2] or right >= x.shape[-1]:
        raise ValueError(
            f"a {x.shape[-2]}x{x.shape[-1]} tensor cannot be reflected by {bottom}x{right} "
            "(the Justin-Tan port's padding needs the image to be larger than that)"
        )
    return torch.nn.functional.pad(x, (0, right, 0, bottom), mode="reflect") if bottom or right else x


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())

