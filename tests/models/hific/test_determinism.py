"""Scale-table indexes must not change under cross-platform float noise (~1e-6 relative)."""
from __future__ import annotations

import math

import numpy as np
import torch

from bench.codecs.hific import container, entropy_coded
from bench.models.hific.checkpoint import fingerprint
from bench.models.hific.config import preset
from bench.models.hific.entropy import ambiguous_positions, coding_means, scale_indexes, scale_table


def _scales_on_boundaries(config, count: int = 20000) -> torch.Tensor:
    """Random scales, half of them within 1e-7 (relative) of a table boundary."""
    generator = torch.Generator().manual_seed(0)
    table = torch.tensor(scale_table(config), dtype=torch.float64)
    boundaries = torch.sqrt(table[:-1] * table[1:])  # nearest-entry boundaries in log space
    random = torch.exp(torch.empty(count // 2).uniform_(math.log(0.05), math.log(300), generator=generator))
    picks = boundaries[torch.randint(len(boundaries), (count // 2,), generator=generator)]
    near = picks * (1 + 1e-7 * torch.randn(count // 2, generator=generator, dtype=torch.float64))
    return torch.cat([random, near.float()]).reshape(1, 4, -1, 50)


def test_indexes_survive_relative_noise_of_1e_6():
    config = preset("tiny")
    scales = _scales_on_boundaries(config)
    ambiguous = ambiguous_positions(scales, config)
    encoder_side = scale_indexes(scales, config, ambiguous)
    for seed in range(5):
        noise = torch.randn(scales.shape, generator=torch.Generator().manual_seed(seed))
        perturbed = scales * (1 + 1e-6 * noise)
        assert torch.equal(scale_indexes(perturbed, config, ambiguous), encoder_side)
    # Without the ambiguity list the same noise does flip indexes: the test can fail.
    perturbed = scales * (1 + 1e-6 * torch.randn(scales.shape, generator=torch.Generator().manual_seed(9)))
    empty = torch.empty(0, dtype=torch.int64)
    assert not torch.equal(scale_indexes(perturbed, config, empty), scale_indexes(scales, config, empty))
    # The list holds the placed scales and, of the 10000 random ones, the expected
    # 2 * margin / table step = 0.016 % (1.6 on average).
    assert scales.numel() // 2 <= ambiguous.numel() <= scales.numel() // 2 + 10


def test_coding_means_are_on_the_grid_and_finite():
    config = preset("tiny")
    means = torch.tensor([0.3, -1.26, float("nan"), float("inf")])
    rounded = coding_means(means, config)
    assert torch.equal(rounded, torch.tensor([0.296875, -1.265625, 0.0, 0.0]))


def test_stream_decodes_exactly_when_decoder_scales_are_perturbed(tiny_model, kodim01_crop, monkeypatch):
    fp = fingerprint(tiny_model)
    data, latents = entropy_coded.encode_image(tiny_model, kodim01_crop, "lo", fp)
    y_hat = latents.y_hat
    exact = tiny_model.hyperprior.entropy_parameters

    def noisy_parameters(z_hat):
        means, scales = exact(z_hat)
        noise = torch.randn(scales.shape, generator=torch.Generator().manual_seed(1))
        return means, scales * (1 + 1e-6 * noise)

    monkeypatch.setattr(tiny_model.hyperprior, "entropy_parameters", noisy_parameters)
    _, strings = entropy_coded.unpack(data)
    assert torch.equal(tiny_model.decompress(strings), y_hat)
    np.testing.assert_array_equal(
        entropy_coded.decode_image(tiny_model, data, fp), container.reconstruct(tiny_model, y_hat, 256, 384)
    )
