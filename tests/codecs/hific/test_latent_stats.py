"""Per-row latent statistics against hand counts and scipy's entropy."""
from __future__ import annotations

import numpy as np
import scipy.stats
import torch

from bench.codecs.hific.latent_stats import latent_statistics, latent_symbol_entropy_bits, latent_zero_fraction


def test_zero_fraction_counts_exact_zeros() -> None:
    residual = torch.tensor([[0.0, 1.0, -0.0, 0.0], [2.0, 0.0, -1.0, 0.0]])
    assert latent_zero_fraction(residual) == 5 / 8


def test_entropy_matches_scipy_on_the_histogram() -> None:
    symbols = np.random.default_rng(3).laplace(0, 1.5, 10_000).round()
    _, counts = np.unique(symbols, return_counts=True)
    expected = scipy.stats.entropy(counts, base=2)
    assert abs(latent_symbol_entropy_bits(symbols) - expected) < 1e-12


def test_known_entropies() -> None:
    assert latent_symbol_entropy_bits(np.zeros(100)) == 0.0
    assert latent_symbol_entropy_bits(np.array([0, 1, 2, 3] * 8)) == 2.0
    assert latent_statistics(np.array([0, 0, 1, -1])) == {"latent_zero_fraction": 0.5, "latent_symbol_entropy_bits": 1.5}
