"""HiFiC's training losses and the sparsity loss.

Stage 1 (Mentzer et al. 2020, eq. 5 without the GAN term)::

    lambda' * R  +  k_M * MSE(x, x')  +  k_P * LPIPS(x, x')

with R the estimated bits per pixel of y and z (from the likelihoods), MSE on 0..255
pixel values, LPIPS v0.1 with AlexNet, and lambda' = lambda_a when the batch's bpp is above
the target r_t, else lambda_b (HiFiC's rate control). Stage 2 adds beta * the
non-saturating generator loss of a conditional discriminator.

The sparsity loss adds lambda_s * S(v), v = y - mu (the residual whose rounding the entropy
coder codes) or v = y: ``l1`` is mean |v|; ``soft_count`` is the mean of
sigmoid((|v| - tau) / T), a differentiable share of values with |v| > tau. Both are means
over the latent's values, so lambda_s does not depend on the image or latent size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from bench.train.config import LossConfig, SparsityConfig


def rate_lambda(bpp: float, config: LossConfig) -> float:
    """lambda_a if the batch's estimated bpp is above the target rate, else lambda_b."""
    return config.lambda_a if bpp > config.target_rate else config.lambda_b


def mse_255(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Mean squared error of images in [0, 1], measured on the 0..255 scale."""
    return F.mse_loss(x_hat.float() * 255.0, x.float() * 255.0)


def lpips_loss(lpips_model: torch.nn.Module, x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Batch mean of LPIPS for images in [0, 1] (``normalize=True`` maps them to [-1, 1])."""
    return lpips_model(x_hat.float(), x.float(), normalize=True).mean()


def sparsity_values(y: torch.Tensor, means: torch.Tensor, config: SparsityConfig) -> torch.Tensor:
    """The values the sparsity loss acts on: the residual y - mu, or y."""
    return y - means if config.on == "residual" else y


def sparsity_loss(values: torch.Tensor, config: SparsityConfig) -> torch.Tensor:
    """S(v): mean |v| (``l1``) or the soft share of |v| > tau (``soft_count``)."""
    magnitude = values.float().abs()
    if config.form == "l1":
        return magnitude.mean()
    return torch.sigmoid((magnitude - config.threshold) / config.temperature).mean()


def generator_gan_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: -log D(x')."""
    return F.softplus(-fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(x) - log(1 - D(x'))."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
