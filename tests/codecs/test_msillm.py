"""MS-ILLM / no-GAN codecs, checked against NeuralCompression 0.3.1's own compress/decompress.

The recording in tests/fixtures/msillm_reference (made by its make_recording.py with the
authors' code; see the docstring there) holds random-weight HiFiCAutoencoder state dicts, the
images, and the bytes and reconstruction the authors' code made of them.
"""
from __future__ import annotations

import importlib.util
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bench.codecs.base import CodecUnavailable, bits_per_pixel
from bench.codecs.compressai_style import setting_id, unpack
from bench.codecs.msillm import MSILLM, MSILLMOptions, checkpoint_name
from bench.codecs.registry import CODECS, all_codecs
from bench.errors import BenchError

RECORDING = Path(__file__).parents[1] / "fixtures" / "msillm_reference"
_spec = importlib.util.spec_from_file_location("make_recording", RECORDING / "make_recording.py")
make_recording = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_recording)


def recorded_checkpoint(case: str, folder: Path, model: str = "msillm", quality: int = 3) -> dict:
    """Write the recorded state dict of ``case`` as the authors' file of ``model`` / ``quality``; the case's facts."""
    facts = json.loads((RECORDING / f"{case}.json").read_text())
    saved = torch.load(RECORDING / f"{case}.pt", weights_only=True)
    state = make_recording.rebuild_state_dict(facts["seed"], saved["stored"], saved["drawn"], saved["order"])
    assert make_recording.state_dict_sha256(state) == facts["state_dict_sha256"]
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(state, folder / checkpoint_name(model, quality))
    return facts


def codec_over(folder: Path, model: str = "msillm") -> MSILLM:
    return MSILLM(model, MSILLMOptions(weights_dir=folder))


@pytest.mark.parametrize("case", [
    pytest.param("published_sizes", marks=pytest.mark.slow),  # 48.7 M parameters: the published models' sizes, 1 residual block
    "small_pad_both",  # 80 x 100: padded on both sides, the tables built by our loader
    "small_tall",  # 150 x 70, the tables read from the checkpoint
])
def test_the_bytes_are_neuralcompressions_and_the_image_within_one_grey_level(case, tmp_path):
    facts = recorded_checkpoint(case, tmp_path)
    codec = codec_over(tmp_path)
    image = np.asarray(Image.open(RECORDING / f"{case}_image.png"))
    bitstream = codec.encode(image, 3)
    setting, height, width, shape, strings = unpack(bitstream)
    assert (setting, height, width) == (setting_id("3"), facts["height"], facts["width"])
    assert [s[0].hex() for s in strings] == facts["latent_strings"] + facts["hyper_latent_strings"]
    assert [4 * 16 * side for side in shape] == facts["padded_size"]
    decoded = pickle.loads(pickle.dumps(codec)).decode(bitstream)  # a decoder that never saw the encoder's model
    theirs = np.asarray(Image.open(RECORDING / f"{case}_recon.png"))
    assert decoded.shape == theirs.shape
    assert np.abs(decoded.astype(int) - theirs.astype(int)).max() <= 1


def test_estimate_symbols_and_reference_decoder(tmp_path):
    from bench.core.conformance import verify_row

    facts = recorded_checkpoint("small_pad_both", tmp_path, "noganms", 5)
    codec = codec_over(tmp_path, "noganms")
    assert codec.settings == [5]
    image = np.asarray(Image.open(RECORDING / "small_pad_both_image.png"))
    encoded = codec.encode_with_context(image, 5)
    real = bits_per_pixel(encoded.bitstream, image)
    estimate = codec.analyse(image, 5, encoded)["bpp_estimate"]
    # The likelihoods of the same rounded latents. Random weights put many latents in the tails, where
    # rANS's escape codes cost fewer bits than the likelihoods' 1e-9 floor says: 3.03 estimated, 2.55 real.
    assert real < estimate < 1.25 * real
    symbols = codec.decoded_latent(encoded.bitstream)
    # One symbol per hyper latent value (48 channels, 2 x 2) and latent value (32 channels, 8 x 8).
    assert symbols.dtype == np.int64 and symbols.size == 48 * 2 * 2 + 32 * 8 * 8
    assert facts["padded_size"] == [128, 128]
    check = verify_row(codec, encoded.bitstream, codec.decode(encoded.bitstream))
    assert check["reference_check"] == "ok" and check["reference_max_diff"] <= 1


def test_an_image_too_small_to_mirror_is_edge_padded_and_round_trips(tmp_path):
    recorded_checkpoint("small_pad_both", tmp_path)
    codec = codec_over(tmp_path)
    image = np.asarray(Image.open(RECORDING / "small_pad_both_image.png"))[:20, :30]
    decoded = codec.decode(codec.encode(image, 3))
    assert decoded.shape == (20, 30, 3) and decoded.dtype == np.uint8


def test_both_series_are_registered_and_a_missing_folder_says_where_to_put_which_files(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    codecs = all_codecs([MSILLMOptions(weights_dir=tmp_path / "absent")])
    assert isinstance(codecs["msillm"], MSILLM) and isinstance(codecs["noganms"], MSILLM)
    assert CODECS.unavailable("noganms", codecs["noganms"]) == (
        "noganms: no MS-ILLM checkpoints; put noganms_target_0.035bpp.ckpt ... noganms_target_0.9bpp.ckpt "
        "(from https://dl.fbaipublicfiles.com/NeuralCompression/2023-muckley-msillm/, CC-BY-NC 4.0) "
        "in --msillm-weights DIR ($BENCH_MSILLM_WEIGHTS)"
    )
    with pytest.raises(CodecUnavailable):
        codecs["msillm"].check_available()


def test_settings_are_the_qualities_present_ordered_by_rate(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    for quality in (5, 2):
        (tmp_path / checkpoint_name("msillm", quality)).write_bytes(b"")
    (tmp_path / checkpoint_name("noganms", 1)).write_bytes(b"")
    assert codec_over(tmp_path).settings == [2, 5]
    assert [checkpoint_name("msillm", q) for q in (1, 6)] == ["msillm_target_0.035bpp.ckpt", "msillm_target_0.9bpp.ckpt"]
    with pytest.raises(ValueError, match="outside its range 1..6"):
        codec_over(tmp_path).parse_setting("7")


def test_a_file_that_is_not_such_a_state_dict_is_one_clear_error(tmp_path):
    torch.save({"encoder.weight": torch.zeros(2)}, tmp_path / checkpoint_name("msillm", 1))
    with pytest.raises(BenchError, match=r"msillm_target_0\.035bpp\.ckpt: not an MS-ILLM / NeuralCompression HiFiCAutoencoder state dict \('encoder\.blocks\.5\.weight'\)"):
        codec_over(tmp_path).model(1)


def test_a_run_from_the_command_line_finds_the_files_through_the_environment_and_verifies(tmp_path):
    import pandas as pd

    from cli_helpers import run_bench

    recorded_checkpoint("small_pad_both", tmp_path / "weights", "noganms", 2)
    (tmp_path / "images").mkdir()
    Image.open(RECORDING / "small_pad_both_image.png").save(tmp_path / "images" / "a.png")
    done = run_bench("run", "--codecs", "noganms", "--images", str(tmp_path / "images"), "--metrics", "psnr",
                     "--jobs", "1", "--verify", "--out", str(tmp_path / "run"), BENCH_MSILLM_WEIGHTS=str(tmp_path / "weights"))
    assert done.returncode == 0, done.stderr
    (row,) = pd.read_csv(tmp_path / "run" / "results.csv").to_dict("records")
    assert (row["codec"], row["setting"], row["status"]) == ("noganms", 2, "ok")
    facts = json.loads((RECORDING / "small_pad_both.json").read_text())
    payload = sum(len(s) // 2 for s in facts["latent_strings"] + facts["hyper_latent_strings"])
    assert 0 < row["bpp"] * 80 * 100 / 8 - payload < 20  # the recorded strings plus the container's header
    assert row["bpp_estimate"] > row["bpp"]
    assert "noganms  checked 1/1  worst diff 0  mismatches 0" in done.stdout
