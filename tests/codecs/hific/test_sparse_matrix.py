"""The sparse-matrix HiFiC bitstream: exact round trips, same image as the entropy-coded one."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bench.codecs.hific import container, entropy_coded, sparse_matrix
from bench.models.hific.checkpoint import fingerprint, save_checkpoint
from hific_helpers import hific_codecs
from bench.models.hific.config import preset
from bench.models.hific.model import HiFiC
from bench.codecs.hific.sparse_layouts import LAYOUTS, decode_symbols, encode_symbols, varint_decode, varint_encode


def seeded_tiny_model(seed: int = 0) -> HiFiC:
    """Tiny HiFiC, random weights, scales raised to ~e^3 so the random prior fits random latents."""
    torch.manual_seed(seed)
    model = HiFiC(preset("tiny")).eval()
    with torch.no_grad():
        model.hyperprior.synthesis_scale.conv3.bias.fill_(3.0)
    model.update()
    return model


class FixedLatent(nn.Module):
    """An encoder that ignores the image and returns a given latent."""

    def __init__(self, y: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("y", y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.y


def model_with_residual(zero_fraction: float, seed: int = 0) -> tuple[HiFiC, np.ndarray]:
    """A tiny model whose latent for a 128x192 image has residual symbols with the given
    share of zeros. The hyper-analysis is zeroed so the means do not depend on y, which
    lets y = means + symbols + noise(|.| < 0.4) have exactly the chosen symbols."""
    model = seeded_tiny_model(seed)
    with torch.no_grad():
        model.hyperprior.analysis.conv3.weight.zero_()
        model.hyperprior.analysis.conv3.bias.zero_()
    shape = (1, model.config.latent_channels, 8, 12)
    z_string = model.hyperprior.z_prior.compress(torch.zeros(1, model.config.hyper_channels, 2, 3))[0]
    means = sparse_matrix.decoded_means(model, z_string, (2, 3))
    generator = torch.Generator().manual_seed(seed)
    magnitudes = torch.randint(1, 6, shape, generator=generator) * torch.where(torch.rand(shape, generator=generator) < 0.5, -1, 1)
    symbols = torch.where(torch.rand(shape, generator=generator) < zero_fraction, 0, magnitudes)
    noise = (torch.rand(shape, generator=generator) - 0.5) * 0.8
    model.encoder = FixedLatent(means + symbols + noise)
    return model, symbols.numpy()


@pytest.mark.parametrize("zero_fraction", [0.0, 0.5, 0.99])
def test_sparse_matrix_decodes_to_the_entropy_coded_reconstruction(zero_fraction: float) -> None:
    model, symbols = model_with_residual(zero_fraction)
    image = np.zeros((128, 192, 3), dtype=np.uint8)
    model_fingerprint = fingerprint(model)

    entropy_bytes, _ = entropy_coded.encode_image(model, image, "m", model_fingerprint)
    sparse_bytes, latents = sparse_matrix.encode_image(model, image, "m", model_fingerprint)
    y_hat = latents.y_hat

    residual = sparse_matrix.unpack(sparse_bytes)[1].payload
    streams, layout = sparse_matrix.unpack_payload(residual)
    assert streams.nonzeros == np.count_nonzero(symbols)
    np.testing.assert_array_equal(decode_symbols(streams, symbols.size, layout), symbols.reshape(-1))
    from_entropy = entropy_coded.decode_image(model, entropy_bytes, model_fingerprint)
    from_sparse = sparse_matrix.decode_image(model, sparse_bytes, model_fingerprint)
    assert from_sparse.tobytes() == from_entropy.tobytes()
    np.testing.assert_array_equal(from_sparse, container.reconstruct(model, y_hat, 128, 192))


def test_sparse_matrix_size_shrinks_as_zeros_grow() -> None:
    image = np.zeros((128, 192, 3), dtype=np.uint8)
    sizes = []
    for zero_fraction in (0.0, 0.5, 0.99):
        model, _ = model_with_residual(zero_fraction)
        sizes.append(len(sparse_matrix.encode_image(model, image, "m", fingerprint(model))[0]))
    # 768 symbols: ~4 bits each dense, about half at 50 %, a handful of bytes at 99 %.
    assert sizes[0] > sizes[1] > sizes[2]
    assert sizes[2] < sizes[0] / 4


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=lambda layout: layout.name)
def test_every_layout_round_trips_large_and_negative_symbols(layout) -> None:
    rng = np.random.default_rng(7)
    symbols = rng.integers(-300, 300, 5000) * (rng.random(5000) < 0.1)
    symbols[[0, -1]] = [2**40, -(2**40)]
    streams = encode_symbols(symbols, layout)
    np.testing.assert_array_equal(decode_symbols(streams, symbols.size, layout), symbols)


def test_varints_match_leb128() -> None:
    assert varint_encode(np.array([0, 1, 127, 128, 300])) == bytes([0, 1, 127, 0x80, 0x01, 0xAC, 0x02])
    np.testing.assert_array_equal(varint_decode(bytes([0xAC, 0x02, 5]), 2), [300, 5])
    with pytest.raises(ValueError, match="expected 3 varints, found 2"):
        varint_decode(bytes([0xAC, 0x02, 5]), 3)


def test_each_format_refuses_the_other(tmp_path) -> None:
    model = seeded_tiny_model()
    image = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    sparse_bytes, _ = sparse_matrix.encode_image(model, image, "m", fingerprint(model))
    entropy_bytes, _ = entropy_coded.encode_image(model, image, "m", fingerprint(model))
    with pytest.raises(ValueError, match="not a bitstream of the entropy-coded HiFiC format"):
        entropy_coded.decode_image(model, sparse_bytes, fingerprint(model))
    with pytest.raises(ValueError, match="not a bitstream of the sparse-matrix HiFiC format"):
        sparse_matrix.decode_image(model, entropy_bytes, fingerprint(model))


def test_provider_registers_both_formats_over_the_same_checkpoints(tmp_path, kodim01: np.ndarray) -> None:
    save_checkpoint(seeded_tiny_model(), tmp_path / "tiny-lo.pt", {"target_rate": 0.14})
    codecs = hific_codecs(families=(f"tiny={tmp_path}",))
    assert {"tiny", "tiny-sparse-matrix", "hific", "hific-sparse-matrix"} <= set(codecs)
    image = np.ascontiguousarray(kodim01[:100, :130])

    dense, sparse = codecs["tiny"], codecs["tiny-sparse-matrix"]
    dense_result = dense.encode_with_context(image, "tiny-lo")
    sparse_result = sparse.encode_with_context(image, "tiny-lo")
    dense_info = dense.analyse(image, "tiny-lo", dense_result)
    sparse_info = sparse.analyse(image, "tiny-lo", sparse_result)

    assert sparse.decode(sparse_result.bitstream).tobytes() == dense.decode(dense_result.bitstream).tobytes()
    for info in (dense_info, sparse_info):
        assert 0.0 <= info["latent_zero_fraction"] <= 1.0 and info["latent_symbol_entropy_bits"] > 0
        assert info["target_rate"] == 0.14
    assert dense_info["latent_zero_fraction"] == sparse_info["latent_zero_fraction"]
    payload = sparse_matrix.unpack(sparse_result.bitstream)[1].payload
    assert sparse_info["positions_bytes"] + sparse_info["values_bytes"] == len(payload) - 9
