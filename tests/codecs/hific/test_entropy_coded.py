"""The entropy-coded HiFiC bitstream: exact round trips, real sizes, any image size."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.codecs.hific import container, entropy_coded
from bench.models.hific.checkpoint import fingerprint
from bench.models.hific.model import LatentStrings, bpp_from_likelihoods


def test_decode_equals_generator_output_on_the_encoders_quantized_latent(tiny_model, kodim01_crop):
    fp = fingerprint(tiny_model)
    data, latents = entropy_coded.encode_image(tiny_model, kodim01_crop, "lo", fp)
    y_hat = latents.y_hat
    decoded = entropy_coded.decode_image(tiny_model, data, fp)
    expected = container.reconstruct(tiny_model, y_hat, *kodim01_crop.shape[:2])
    assert decoded.shape == kodim01_crop.shape and decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, expected)
    # The latent recovered from the bytes is exactly the model's quantized latent.
    _, strings = entropy_coded.unpack(data)
    assert torch.equal(tiny_model.decompress(strings), y_hat)
    assert torch.equal(tiny_model(container.image_to_tensor(kodim01_crop, tiny_model.config)).y_hat, y_hat)


def test_bpp_is_from_the_bytes_and_the_estimate_is_close(tiny_model, kodim01_crop):
    height, width = kodim01_crop.shape[:2]
    data, _ = entropy_coded.encode_image(tiny_model, kodim01_crop, "lo", fingerprint(tiny_model))
    bpp = 8 * len(data) / (height * width)
    with torch.no_grad():
        likelihoods = tiny_model(container.image_to_tensor(kodim01_crop, tiny_model.config)).likelihoods
    estimate_bytes = float(bpp_from_likelihoods(likelihoods, height * width)) * height * width / 8
    assert bpp == pytest.approx(8 * len(data) / (256 * 384))
    # Tolerance: the real stream adds a ~21-byte header and rANS flush bytes per string
    # (additive), and codes with the nearest table scale and 16-bit CDFs (about 1 %).
    assert abs(len(data) - estimate_bytes) <= 0.02 * estimate_bytes + 64, (len(data), estimate_bytes)


@pytest.mark.parametrize("height,width", [(321, 481), (130, 65), (1, 1), (64, 64)])
def test_odd_sizes_round_trip(tiny_model, height, width):
    image = np.random.default_rng(height * 1000 + width).integers(0, 256, (height, width, 3), dtype=np.uint8)
    fp = fingerprint(tiny_model)
    data, latents = entropy_coded.encode_image(tiny_model, image, "lo", fp)
    y_hat = latents.y_hat
    header = entropy_coded.read_header(data)
    assert (header.height, header.width) == (height, width)
    assert (height + header.pad_bottom) % 64 == 0 and (width + header.pad_right) % 64 == 0
    decoded = entropy_coded.decode_image(tiny_model, data, fp)
    np.testing.assert_array_equal(decoded, container.reconstruct(tiny_model, y_hat, height, width))


def test_empty_and_malformed_input_fail_clearly(tiny_model):
    with pytest.raises(ValueError, match="empty image"):
        entropy_coded.encode_image(tiny_model, np.zeros((0, 5, 3), np.uint8), "lo", 0)
    with pytest.raises(ValueError, match="uint8"):
        entropy_coded.encode_image(tiny_model, np.zeros((8, 8, 3), np.float32), "lo", 0)
    with pytest.raises(ValueError, match="bad magic"):
        entropy_coded.read_header(b"\xff\xd8\xff\xe0 a JPEG")
    data, _ = entropy_coded.encode_image(tiny_model, np.zeros((8, 8, 3), np.uint8), "lo", 7)
    with pytest.raises(ValueError, match="truncated"):
        entropy_coded.unpack(data[:-3])
    with pytest.raises(ValueError, match="another model"):
        entropy_coded.decode_image(tiny_model, data, 8)


def test_header_fields_round_trip():
    header = container.Header("hific_med", 0xDEADBEEF, 70000, 3, 16, 61, (1094, 1))
    strings = LatentStrings(b"zz", b"yyy", (1094, 1), [3, 200, 70001])
    assert entropy_coded.unpack(entropy_coded.pack(header, strings)) == (header, strings)
