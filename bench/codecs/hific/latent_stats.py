"""Statistics of the residual symbols round(y - mu) that a HiFiC bitstream codes."""
from __future__ import annotations

import numpy as np
import torch


def latent_zero_fraction(residual: torch.Tensor | np.ndarray) -> float:
    """Share of residual symbols equal to 0."""
    symbols = np.asarray(torch.as_tensor(residual).detach().cpu()).reshape(-1)
    return float(np.mean(symbols == 0)) if symbols.size else float("nan")


def latent_symbol_entropy_bits(residual: torch.Tensor | np.ndarray) -> float:
    """Empirical (zeroth-order) entropy of the residual symbols, in bits per symbol.

    -sum p(s) log2 p(s) over the histogram of the symbols of this one latent: what an ideal
    coder with one static, image-specific distribution would spend per symbol.
    """
    symbols = np.asarray(torch.as_tensor(residual).detach().cpu()).reshape(-1)
    if not symbols.size:
        return float("nan")
    _, counts = np.unique(symbols, return_counts=True)
    probabilities = counts / symbols.size
    return float(-(probabilities * np.log2(probabilities)).sum() + 0.0)


def latent_statistics(residual: torch.Tensor | np.ndarray) -> dict[str, float]:
    """The per-row latent columns: ``latent_zero_fraction``, ``latent_symbol_entropy_bits``."""
    return {
        "latent_zero_fraction": latent_zero_fraction(residual),
        "latent_symbol_entropy_bits": latent_symbol_entropy_bits(residual),
    }
