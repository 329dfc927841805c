"""Our checkpoint format and the Justin-Tan port's layout."""
from __future__ import annotations

import argparse
from pathlib import PurePosixPath

import pytest
import torch

from bench.codecs.hific import entropy_coded
from bench.models.hific import justin_tan
from bench.models.hific.config import PORT_RULES
from bench.models.hific.checkpoint import CheckpointError, fingerprint, load_checkpoint, save_checkpoint


def _encode(model, image):
    return entropy_coded.encode_image(model, image, "lo", fingerprint(model))[0]


def test_save_load_gives_identical_bytes(tiny_model, kodim01_crop, tmp_path):
    path = save_checkpoint(tiny_model, tmp_path / "lo.pt", card={"target_rate": 0.14})
    raw = torch.load(path, weights_only=True)
    assert raw["state_dict"]["hyperprior.y_prior._quantized_cdf"].numel() > 0  # tables stored
    loaded, card = load_checkpoint(path)
    assert card == {"target_rate": 0.14, "weights_dtype": "float32"}
    assert fingerprint(loaded) == fingerprint(tiny_model)
    assert _encode(loaded, kodim01_crop) == _encode(tiny_model, kodim01_crop)


def test_float16_weights_halve_the_file_and_code_with_tables_of_the_rounded_weights(tiny_model, kodim01_crop, tmp_path):
    full = save_checkpoint(tiny_model, tmp_path / "full.pt")
    half = save_checkpoint(tiny_model, tmp_path / "half.pt", weights_dtype="float16")
    stored = torch.load(half, weights_only=True)["state_dict"]
    assert stored["encoder.project.1.weight"].dtype == torch.float16
    assert stored["hyperprior.y_prior._quantized_cdf"].dtype == torch.int32
    weights = lambda path: sum(v.numel() * v.element_size() for k, v in torch.load(path, weights_only=True)["state_dict"].items() if "_cdf" not in k)
    assert weights(half) < 0.6 * weights(full)
    # The model passed in keeps its float32 weights.
    assert tiny_model.encoder.project[1].weight.dtype == torch.float32
    assert not torch.equal(tiny_model.encoder.project[1].weight, tiny_model.encoder.project[1].weight.half().float())
    loaded, card = load_checkpoint(half)
    assert card["weights_dtype"] == "float16"
    # Tables rebuilt from the loaded (rounded) weights equal the stored ones: they describe the weights that ship.
    stored_tables = loaded.hyperprior.z_prior._quantized_cdf.clone()
    loaded.update(force=True)
    assert torch.equal(loaded.hyperprior.z_prior._quantized_cdf, stored_tables)
    data = _encode(loaded, kodim01_crop)
    assert entropy_coded.decode_image(loaded, data, fingerprint(loaded)).shape == kodim01_crop.shape


def test_load_uses_stored_tables_without_update(tiny_model, tmp_path, monkeypatch):
    path = save_checkpoint(tiny_model, tmp_path / "lo.pt")
    from compressai.entropy_models import EntropyBottleneck, GaussianConditional

    def forbidden(*args, **kwargs):
        raise AssertionError("update() called at load time")

    monkeypatch.setattr(EntropyBottleneck, "update", forbidden)
    monkeypatch.setattr(GaussianConditional, "update", forbidden)
    loaded, _ = load_checkpoint(path)
    assert torch.equal(loaded.hyperprior.z_prior._quantized_cdf, tiny_model.hyperprior.z_prior._quantized_cdf)


def test_missing_key_fails_with_the_key_named(tiny_model, tmp_path):
    path = save_checkpoint(tiny_model, tmp_path / "lo.pt")
    data = torch.load(path, weights_only=True)
    del data["state_dict"]["generator.output.1.weight"]
    torch.save(data, tmp_path / "broken.pt")
    with pytest.raises(CheckpointError, match=r"missing generator\.output\.1\.weight; unexpected none"):
        load_checkpoint(tmp_path / "broken.pt")


def test_unknown_file_fails_clearly(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="neither a codec-bench HiFiC checkpoint nor a Justin-Tan"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "absent.pt")


def test_checkpoint_with_pickled_objects_names_them_in_one_line(tiny_model, tmp_path):
    # What a training script that saves its argparse namespace and output path produces.
    path = tmp_path / "full.pt"
    torch.save({"state_dict": tiny_model.state_dict(), "args": argparse.Namespace(lr=1e-4), "out": PurePosixPath("/runs")}, path)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    assert str(error.value) == (
        f"{path} is not a plain state_dict checkpoint: it pickles argparse.Namespace, pathlib.PurePosixPath, "
        "which loading with weights_only=True refuses; save only tensors and plain Python values (a state_dict, numbers, strings)"
    )


def test_file_that_torch_did_not_write_fails_in_one_line(tmp_path):
    (tmp_path / "junk.pt").write_text("plain text, not a checkpoint\n")
    with pytest.raises(CheckpointError, match=r"^cannot read HiFiC checkpoint .*junk\.pt: ") as error:
        load_checkpoint(tmp_path / "junk.pt")
    assert "\n" not in str(error.value) and "\x1b" not in str(error.value)


def test_justin_tan_layout_round_trips(make_model, kodim01_crop, tmp_path):
    model = make_model(seed=3, z_prior_final_factor=True)
    with torch.no_grad():
        model.hyperprior.z_prior.final_factor.fill_(0.5)  # the port's a_3 is really used
    # The port stores no quantiles; give ours the same searched ones the loader will find.
    model.hyperprior.z_prior.update(force=True, update_quantiles=True)
    theirs = justin_tan.from_ours(model.state_dict(), model.config)
    assert theirs["Encoder.conv_block1.2.gamma"].shape == (1, 4, 1, 1)
    assert "Hyperprior.hyperlatent_likelihood.a_3" in theirs
    theirs["Discriminator.conv.weight"] = torch.zeros(1)  # ignored, as in real training checkpoints
    torch.save({"model_state_dict": theirs, "args": {"sample_noise": False}, "steps": 10}, tmp_path / "hific_low.pt")
    loaded, card = load_checkpoint(tmp_path / "hific_low.pt")
    assert loaded.config.residual_blocks == 1 and loaded.config.encoder_channels == (4, 8, 8, 16, 16)
    assert card["steps"] == 10
    for key, value in model.state_dict().items():
        if not key.endswith(("_quantized_cdf", "_offset", "_cdf_length", "quantiles")):
            assert torch.equal(loaded.state_dict()[key], value), key
    # The same searched tails; the medians are 0, as the port codes z rounded without offset.
    torch.testing.assert_close(loaded.hyperprior.z_prior.quantiles[:, :, ::2], model.hyperprior.z_prior.quantiles[:, :, ::2])
    assert not loaded.hyperprior.z_prior.quantiles[:, :, 1].any()
    assert {key: getattr(loaded.config, key) for key in PORT_RULES} == PORT_RULES
    assert (loaded.config.likelihood, loaded.config.normalize_input) == ("gaussian", False)


def test_justin_tan_missing_key_fails_clearly(make_model, tmp_path):
    model = make_model(z_prior_final_factor=True)
    theirs = justin_tan.from_ours(model.state_dict(), model.config)
    del theirs["Generator.resblock_0.norm2.beta"]
    torch.save({"model_state_dict": theirs}, tmp_path / "hific_med.pt")
    with pytest.raises(CheckpointError, match=r"missing Generator\.resblock_0\.norm2\.beta; unexpected none"):
        load_checkpoint(tmp_path / "hific_med.pt")
