"""Deterministic entropy-coding parameters: scale-table indexes and coding means.

Why this module exists: the decoder recomputes the Gaussian means and scales from the
decoded hyper-latent. z_hat itself is exact (integers plus stored medians), but the
hyper-synthesis network that maps it to scales runs in floating point, and another
machine (or CUDA instead of the CPU) can give results that differ in the last bits.
If such a difference moves a scale across a boundary of the scale table, the decoder
picks another CDF than the encoder did and every symbol after it decodes to garbage.

Two rules remove that failure:

* **Indexes.** A scale's index is the nearest table entry in log space. A scale whose
  log-position lies within ``index_margin`` (relative) of a boundary between two entries
  is *ambiguous*: the encoder lists its position in the bitstream, and both sides use the
  upper entry there. Every other scale is at least ``index_margin`` from a boundary, so
  noise smaller than that cannot change its index. The list costs a few bytes per image.
* **Means.** The coding means are rounded to a grid of ``mean_step`` (2^-6). On one
  machine the decoder's means are then bit-identical to the encoder's. Across machines a
  mean can still land on the other side of a grid midpoint; then that one latent value
  differs by ``mean_step`` -- means never select a CDF, so the stream stays in sync.
  Models of the Justin-Tan port (``mean_step`` 0) code around the raw means, as the port
  does: the symbols are still exact, and y_hat = symbols + means differs between machines
  only by the means' last bits.

Rounding itself follows the model's ``rounding`` rule (:func:`quantize`).
"""
from __future__ import annotations

import math

import torch

from bench.models.hific.config import HiFiCConfig


def scale_table(config: HiFiCConfig) -> list[float]:
    """``scale_levels`` scales, log-spaced from ``scale_min`` to ``scale_max`` (as in HiFiC)."""
    low, high = math.log(config.scale_min), math.log(config.scale_max)
    step = (high - low) / (config.scale_levels - 1)
    return [math.exp(low + i * step) for i in range(config.scale_levels)]


def _log_positions(scales: torch.Tensor, config: HiFiCConfig) -> torch.Tensor:
    """Each scale's position on the table in units of table steps (float64, >= 0)."""
    low, high = math.log(config.scale_min), math.log(config.scale_max)
    step = (high - low) / (config.scale_levels - 1)
    log_scales = torch.log(scales.detach().to(torch.float64).clamp_min(config.scale_min))
    return (log_scales - low) / step


def _margin_in_steps(config: HiFiCConfig) -> float:
    step = (math.log(config.scale_max) - math.log(config.scale_min)) / (config.scale_levels - 1)
    return config.index_margin / step


def ambiguous_positions(scales: torch.Tensor, config: HiFiCConfig) -> torch.Tensor:
    """Flat positions (int64, ascending) of the scales too close to a table boundary."""
    positions = _log_positions(scales, config)
    distance = (positions - (torch.floor(positions) + 0.5)).abs()
    near = (distance < _margin_in_steps(config)) & (positions < config.scale_levels - 1)
    return torch.nonzero(near.reshape(-1)).reshape(-1).cpu()


def scale_indexes(scales: torch.Tensor, config: HiFiCConfig, ambiguous: torch.Tensor) -> torch.Tensor:
    """Scale-table index of every scale: the nearest entry, or the upper one where ambiguous.

    ``ambiguous`` holds flat positions from :func:`ambiguous_positions` on the encoder's
    scales; the decoder passes the list it read from the bitstream.
    """
    positions = _log_positions(scales, config)
    indexes = torch.round(positions).reshape(-1)
    if ambiguous.numel():
        ambiguous = ambiguous.to(indexes.device)
        indexes[ambiguous] = torch.floor(positions.reshape(-1)[ambiguous]) + 1
    indexes = indexes.clamp(0, config.scale_levels - 1)
    return indexes.to(torch.int32).reshape(scales.shape)


def quantize(values: torch.Tensor, config: HiFiCConfig) -> torch.Tensor:
    """``values`` rounded to integers by the model's rule: ties to even (``torch.round``), or
    up (``floor(v + 0.5)``, as the Justin-Tan port and TensorFlow's HiFiC round)."""
    if config.rounding == "half_up":
        return torch.floor(values + 0.5)
    return torch.round(values)


def coding_means(means: torch.Tensor, config: HiFiCConfig) -> torch.Tensor:
    """Means rounded to multiples of ``mean_step``, or as they are when it is 0 (non-finite values become 0)."""
    finite = torch.nan_to_num(means, nan=0.0, posinf=0.0, neginf=0.0)
    step = config.mean_step
    return torch.round(finite / step) * step if step else finite
