"""Loss terms against known values and the LPIPS metric."""
from __future__ import annotations

import math

import numpy as np
import torch

from bench.metrics.lpips import load_lpips, lpips_distance
from bench.train import losses
from bench.train.config import LossConfig, SparsityConfig
from bench.weights import weights_file


def test_rate_lambda_switches_at_the_target_rate() -> None:
    config = LossConfig(target_rate=0.14, lambda_a=2.0, lambda_b=0.0625)
    assert losses.rate_lambda(0.15, config) == 2.0
    assert losses.rate_lambda(0.14, config) == 0.0625


def test_mse_is_on_the_0_255_scale() -> None:
    x = torch.zeros(1, 3, 4, 4)
    assert losses.mse_255(x, x + 2 / 255).item() == 4.0


def test_soft_count_approaches_the_count_above_the_threshold() -> None:
    values = torch.tensor([0.0, 0.2, -0.45, 0.55, -1.0, 3.0, 0.7, -0.1])  # 4 of 8 have |v| > 0.5
    sharp = SparsityConfig(form="soft_count", threshold=0.5, temperature=0.005)
    assert abs(losses.sparsity_loss(values, sharp).item() - 0.5) < 1e-4
    assert losses.sparsity_loss(values, SparsityConfig(form="l1")).item() == values.abs().mean().item()


def test_sparsity_acts_on_the_residual_or_on_y() -> None:
    y, means = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.5])
    assert losses.sparsity_values(y, means, SparsityConfig(on="residual")).tolist() == [0.0, 0.5]
    assert losses.sparsity_values(y, means, SparsityConfig(on="latent")).tolist() == [1.0, 2.0]


def test_gan_losses_at_undecided_logits() -> None:
    zero = torch.zeros(2, 1, 4, 4)
    assert math.isclose(losses.generator_gan_loss(zero).item(), math.log(2), rel_tol=1e-6)
    assert math.isclose(losses.discriminator_loss(zero, zero).item(), 2 * math.log(2), rel_tol=1e-6)


def test_lpips_loss_equals_the_lpips_metric(fixed_batch: torch.Tensor) -> None:
    model = load_lpips("alex", weights_file("lpips_alex"), "cpu")
    reference = fixed_batch[:1]
    distorted = (reference + 0.1 * torch.sin(torch.arange(128.0) / 3)).clamp(0, 1)
    to_uint8 = lambda t: np.round(t[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)  # noqa: E731
    quantized = [torch.from_numpy(to_uint8(t)).permute(2, 0, 1)[None].float() / 255 for t in (reference, distorted)]
    expected = lpips_distance(to_uint8(reference), to_uint8(distorted), model)
    assert abs(losses.lpips_loss(model, *quantized).item() - expected) < 1e-6
    assert expected > 0.05
