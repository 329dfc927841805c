"""HiFiC as a bench codec: settings are checkpoints, families come from options and baselines/."""
from __future__ import annotations

import math
import pickle
import time

import numpy as np
import pytest
import torch
from PIL import Image

from bench.codecs.base import CodecUnavailable
from bench.codecs.hific import container, families
from bench.models.hific.checkpoint import save_checkpoint
from hific_helpers import hific_codecs
from bench.models.hific.rates import target_rate_of
from bench.codecs.hific.latent_stats import latent_symbol_entropy_bits, latent_zero_fraction
from bench.models.hific.model import bpp_from_likelihoods


def test_without_checkpoints_hific_explains_where_they_come_from(tmp_path, monkeypatch):
    monkeypatch.setattr(families, "default_baselines_dir", lambda: tmp_path)
    monkeypatch.delenv("BENCH_BASELINES_DIR", raising=False)
    codecs = hific_codecs()
    assert list(codecs) == ["hific", "hific-sparse-matrix"]
    with pytest.raises(CodecUnavailable, match="--hific-checkpoint.*bench train.*baselines/"):
        codecs["hific"].check_available()


def test_codec_round_trip_with_info(make_model, kodim01_crop, tmp_path, monkeypatch):
    for seed, rate in ((0, "lo"), (1, "hi")):
        save_checkpoint(make_model(seed), tmp_path / "family" / f"hific_{rate}.pt", card={"target_rate": 0.5 + seed})
    codec = hific_codecs(checkpoints=(str(tmp_path / "family"),))["hific"]
    assert codec.settings == ["hific_lo", "hific_hi"]
    codec = pickle.loads(pickle.dumps(codec))  # as sent to a worker
    result = codec.encode_with_context(kodim01_crop, "hific_hi")
    info = codec.analyse(kodim01_crop, "hific_hi", result)
    assert info["target_rate"] == 1.5
    bpp = 8 * len(result.bitstream) / (256 * 384)
    assert abs(info["bpp_estimate"] - bpp) <= 0.02 * bpp + 64 * 8 / (256 * 384)
    fresh = pickle.loads(pickle.dumps(codec))  # a decoder that never saw the encoder's models
    decoded = fresh.decode(result.bitstream)
    np.testing.assert_array_equal(decoded, codec.decode(result.bitstream))
    assert decoded.shape == kodim01_crop.shape


def test_target_rate_from_names():
    assert target_rate_of("hific_low") == 0.14 and target_rate_of("mi") == 0.30 and target_rate_of("hi") == 0.45
    assert math.isnan(target_rate_of("step1000"))


@pytest.mark.parametrize("name", ["hific", "hific-sparse-matrix"])
def test_encode_info_comes_from_the_encoder_alone(name, make_model, kodim01_crop, tmp_path, monkeypatch):
    # The analysis for the extra columns must not run the generator (most of a forward pass).
    model = make_model()
    save_checkpoint(model, tmp_path / "hific_lo.pt")
    codec = hific_codecs(checkpoints=(str(tmp_path / "hific_lo.pt"),))[name]
    loaded = codec.model("hific_lo")[0]
    monkeypatch.setattr(loaded.generator, "forward", lambda *args: pytest.fail("the encoder ran the generator"))
    info = codec.analyse(kodim01_crop, "hific_lo", codec.encode_with_context(kodim01_crop, "hific_lo"))

    with torch.no_grad():
        output = model(container.image_to_tensor(kodim01_crop, model.config))
    expected = bpp_from_likelihoods(output.likelihoods, 256 * 384).item()
    assert info["bpp_estimate"] == pytest.approx(expected, rel=1e-6)
    assert info["latent_zero_fraction"] == latent_zero_fraction(output.residual)
    assert info["latent_symbol_entropy_bits"] == pytest.approx(latent_symbol_entropy_bits(output.residual), rel=1e-12)


def test_checkpoint_loading_stays_out_of_encode_seconds(make_model, kodim01_crop, tmp_path, monkeypatch):
    from bench.models.hific import checkpoint
    from bench.core.points import OperatingPoint
    from bench.core.measure import measure_job
    from bench.core.plan import ImageSource, Job, RunPlan

    save_checkpoint(make_model(), tmp_path / "hific_lo.pt")
    real_load = checkpoint.load_checkpoint

    def slow_load(*args, **kwargs):
        time.sleep(6.0)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(checkpoint, "load_checkpoint", slow_load)
    Image.fromarray(kodim01_crop).save(tmp_path / "crop.png")
    codec = hific_codecs(checkpoints=(tmp_path / "hific_lo.pt",))["hific"]
    image = ImageSource("d", "crop.png", tmp_path / "crop.png")
    plan = RunPlan(images=[image], codecs={"hific": codec}, metrics=[])
    row = measure_job(Job(image, "hific", OperatingPoint("hific_lo")), codec, [], plan).row
    assert row["status"] == "ok", row["error"]
    # The 6 s load would dominate either time; coding this tiny model takes milliseconds when the
    # machine is idle, and well under 3 s however busy it is.
    assert row["encode_seconds"] < 3.0 and row["decode_seconds"] < 3.0
    assert row["bpp_estimate"] > 0
