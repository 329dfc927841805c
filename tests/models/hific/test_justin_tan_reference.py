"""Checkpoints of the Justin-Tan HiFiC port decode exactly as the port's own code decodes them.

The reference data in ``tests/fixtures/hific_port`` was made by running the port's code (its
repository at commit 7d4e9e7; see the folder's README): three reduced-width models built with
the port's classes and saved by its ``utils.save_model`` (Lo Gaussian, Lo with ``-norm``, Med
with the logistic likelihood), each run through the port's ``compress`` / ``decompress`` on
three crops of kodim01: 128 x 192 (multiples of 64), 150 x 200 and 73 x 91 (neither).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.codecs.hific import container, entropy_coded, sparse_matrix
from bench.imageio import read_image
from bench.models.hific.checkpoint import fingerprint, load_checkpoint
from bench.models.hific.checkpoint_file import CheckpointError
from bench.models.hific.entropy import quantize
from bench.models.hific.model import bpp_from_likelihoods

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hific_port"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
MODELS = ("low_gaussian", "low_norm", "med_logistic")
#: Case name -> (rows, columns) of kodim01 it crops.
CROPS = {"a_r0-128_c0-192": (slice(0, 128), slice(0, 192)), "b_r0-150_c0-200": (slice(0, 150), slice(0, 200)),
         "c_r100-173_c50-141": (slice(100, 173), slice(50, 141))}
CASES = [(model, crop) for model in MODELS for crop in CROPS]


@pytest.fixture(scope="module")
def models():
    return {name: load_checkpoint(FIXTURES / f"{name}.pt")[0] for name in MODELS}


def crop_of(kodak_dir: Path, crop: str) -> np.ndarray:
    rows, columns = CROPS[crop]
    return np.ascontiguousarray(read_image(kodak_dir / "kodim01.png")[rows, columns])


#: Largest absolute difference allowed in the encoder's float output y (its values are of order 1-10).
Y_TOLERANCE = 1e-5


def assert_equal_but_for_ties(ours: torch.Tensor, reference: torch.Tensor, unrounded: torch.Tensor) -> None:
    """Quantised values equal, except where the value rounded lies within Y_TOLERANCE of the midpoint
    between the two candidates: a tie that the last float bit of another CPU's kernels decides."""
    differ = ours != reference
    assert torch.equal((ours - reference)[differ].abs(), torch.ones(int(differ.sum())))
    torch.testing.assert_close(unrounded[differ], ((ours + reference) / 2)[differ], rtol=0, atol=Y_TOLERANCE)


@pytest.mark.parametrize("model_name, crop", CASES)
def test_latents_padding_and_both_bitstreams_equal_the_port(models, kodak_dir, model_name, crop):
    model, case = models[model_name], f"{model_name}__{crop}"
    reference = torch.load(FIXTURES / f"{case}.pt", weights_only=True)
    expected_image = read_image(FIXTURES / f"{case}.png")
    image = crop_of(kodak_dir, crop)

    x = container.image_to_tensor(image, model.config)
    assert list(x.shape) == REFERENCE[case]["x_padded_shape"]
    latents = model.encode_latents(x)
    # y is a float output of the encoder (and y reflected to multiples of 4 as the port pads it): its last bits
    # depend on the CPU's kernels (4.2e-7 seen on an AMD EPYC), so it holds to Y_TOLERANCE. The quantised
    # latents are exact but for ties; y's symbols are compared under the port's z_hat, so that a tie in z
    # does not move every mean.
    torch.testing.assert_close(latents.y, reference["y"], rtol=0, atol=Y_TOLERANCE)
    assert_equal_but_for_ties(latents.z_hat, reference["z_hat"], latents.z)
    with torch.no_grad():
        means, _ = model.hyperprior.entropy_parameters(reference["z_hat"])
    assert_equal_but_for_ties(quantize(latents.y - means, model.config) + means, reference["y_hat"], latents.y)
    estimate = bpp_from_likelihoods(model.likelihoods(latents), image.shape[0] * image.shape[1], model.config.likelihood_epsilon)
    assert float(estimate) == pytest.approx(REFERENCE[case]["total_bpp"], rel=5e-3)
    # The port's own latent through our generator gives the port's image; each of our bitstreams decodes
    # to what our latent gives (the same latent but for ties, which move the image by more than a grey level).
    height, width = image.shape[:2]
    assert np.abs(container.reconstruct(model, reference["y_hat"], height, width).astype(int) - expected_image).max() <= 1
    for module in (entropy_coded, sparse_matrix):
        data, coded = module.encode_image(model, image, model_name, fingerprint(model))
        np.testing.assert_array_equal(module.decode_image(model, data, fingerprint(model)),
                                      container.reconstruct(model, coded.y_hat, height, width))


def test_the_port_s_options_are_read_from_its_args(models):
    assert (models["low_gaussian"].config.likelihood, models["low_gaussian"].config.normalize_input) == ("gaussian", False)
    assert models["low_norm"].config.normalize_input
    assert models["med_logistic"].config.likelihood == "logistic"


def test_a_port_bitstream_is_refused_by_a_model_with_other_rules(models, kodak_dir, tiny_model):
    image = crop_of(kodak_dir, "a_r0-128_c0-192")
    data, _ = entropy_coded.encode_image(models["low_gaussian"], image, "lo", fingerprint(models["low_gaussian"]))
    with pytest.raises(ValueError, match="coded with z rounded without offset, ties rounded up, raw means, reflect padding to 16, "
                                         "but checkpoint 'lo' follows codec-bench's own rules"):
        entropy_coded.decode_image(tiny_model, data, fingerprint(tiny_model))


@pytest.mark.parametrize("option, value", [("sample_noise", True), ("use_latent_mixture_model", True), ("likelihood_type", "laplace")])
def test_an_option_we_cannot_follow_is_refused_naming_it(tmp_path, option, value):
    data = torch.load(FIXTURES / "low_gaussian.pt", weights_only=True)
    data["args"][option] = value
    torch.save(data, tmp_path / "hific_low.pt")
    with pytest.raises(CheckpointError, match=f"{option}={value!r}"):
        load_checkpoint(tmp_path / "hific_low.pt")
