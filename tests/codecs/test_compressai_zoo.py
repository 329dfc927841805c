"""CompressAI zoo models as codecs, with state dicts made here (no zoo weights can be downloaded)."""
from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest
import torch

from bench.codecs.base import CodecUnavailable, bits_per_pixel
from bench.codecs.compressai_zoo import CompressAIOptions, CompressAIZoo
from bench.codecs.registry import all_codecs
from zoo_helpers import save_random_weights


def test_every_architecture_and_metric_is_registered_with_the_zoo_quality_ranges(tmp_path):
    codecs = {name: codec for name, codec in all_codecs([CompressAIOptions(weights_dir=tmp_path)]).items()
              if isinstance(codec, CompressAIZoo)}
    assert {"bmshj2018-factorized", "bmshj2018-hyperprior-msssim", "mbt2018", "cheng2020-anchor", "cheng2020-attn-msssim"} <= set(codecs)
    assert len(codecs) == 12
    assert codecs["mbt2018-mean"].qualities() == list(range(1, 9)) and codecs["cheng2020-anchor"].qualities() == list(range(1, 7))
    assert "autoregressive" in codecs["mbt2018"].description and "autoregressive" not in codecs["mbt2018-mean"].description


def test_a_model_without_weights_is_unavailable_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    codec = CompressAIZoo("bmshj2018-hyperprior", "mse", CompressAIOptions(weights_dir=tmp_path))
    with pytest.raises(CodecUnavailable) as raised:
        codec.check_available()
    assert str(raised.value) == (
        "bmshj2018-hyperprior: no weights (e.g. bmshj2018-hyperprior-1-7eb97409.pth.tar); put the zoo's files in "
        "--compressai-weights DIR ($BENCH_COMPRESSAI_WEIGHTS), or pass --compressai-download to let the zoo download them"
    )
    # With downloads allowed, every quality is a setting (the zoo fetches on first use).
    assert CompressAIZoo("bmshj2018-hyperprior", "mse", CompressAIOptions(weights_dir=tmp_path, download=True)).settings == list(range(1, 9))


@pytest.mark.parametrize("architecture", ["bmshj2018-factorized", "mbt2018-mean"])
def test_round_trip_through_real_bitstreams(architecture, tmp_path, kodim01_crop):
    save_random_weights(tmp_path, architecture, "mse", 2)
    codec = CompressAIZoo(architecture, "mse", CompressAIOptions(weights_dir=tmp_path))
    codec.check_available()
    assert codec.settings == [2]
    image = np.ascontiguousarray(kodim01_crop[:200, :300])  # not a multiple of 64: padded and cropped back
    bitstream = codec.encode(image, 2)
    assert bitstream[:7] == b"CZ\x03" + hashlib.sha256(b"2").digest()[:4]  # format 3, the id of the setting "2"
    fresh = pickle.loads(pickle.dumps(codec))  # a decoder that never saw the encoder's model
    decoded = fresh.decode(bitstream)
    assert decoded.shape == image.shape and decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, codec.decode(bitstream))
    # The bytes are the model's own strings (plus a 10-odd-byte header).
    model = codec.model(2)
    with torch.no_grad():
        strings = model.compress(torch.nn.functional.pad(torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255,
                                                        (0, 20, 0, 56), mode="replicate"))["strings"]
    assert 0 < len(bitstream) - sum(len(s[0]) for s in strings) < 20
    # Format 1 (the quality as one byte) and format 2 (the label with its length) still decode.
    np.testing.assert_array_equal(codec.decode(b"CZ\x01\x02" + bitstream[7:]), decoded)
    np.testing.assert_array_equal(codec.decode(b"CZ\x02\x012" + bitstream[7:]), decoded)
    info = codec.analyse(image, 2, codec.encode_with_context(image, 2))
    assert info["bpp_estimate"] > 0
    assert bits_per_pixel(bitstream, image) > 0


@pytest.mark.parametrize("architecture", ["bmshj2018-hyperprior", "mbt2018"])
def test_a_fresh_process_recovers_the_same_symbols_and_image(architecture, tmp_path, kodim01_crop):
    from bench.core.conformance import verify_row

    save_random_weights(tmp_path, architecture, "mse", 1)
    codec = CompressAIZoo(architecture, "mse", CompressAIOptions(weights_dir=tmp_path))
    image = np.ascontiguousarray(kodim01_crop[:64, :128])
    bitstream = codec.encode(image, 1)
    symbols = codec.decoded_latent(bitstream)
    # Every symbol of y and z: one per latent value (the hyperprior's y has 4 x 8 positions here).
    assert symbols.dtype == np.int64 and symbols.size == codec.model(1).M * 4 * 8 + codec.model(1).N * 1 * 2
    check = verify_row(codec, bitstream, codec.decode(bitstream))
    assert check["reference_check"] == "ok" and check["reference_max_diff"] <= 1
