"""Checkpoints and bitstreams written before HiFiC's networks moved still load and decode the same.

The fixtures were made by the code of commit 478e43a (see ``tests/fixtures/hific_format_v1``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.codecs.hific import entropy_coded, sparse_matrix
from bench.models.hific.checkpoint import fingerprint, load_checkpoint
from bench.imageio import read_image

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hific_format_v1"


@pytest.fixture(scope="module")
def old_model():
    return load_checkpoint(FIXTURES / "tiny-lo.pt")


def test_old_checkpoint_loads_with_its_card_and_tables(old_model):
    model, card = old_model
    assert model.config.name == "tiny"
    assert card["target_rate"] == 0.14
    assert fingerprint(model) == 0x541F234B


@pytest.mark.parametrize("suffix, module", [("hf", entropy_coded), ("hs", sparse_matrix)])
def test_old_bitstream_decodes_to_the_old_image(old_model, suffix, module):
    model, _ = old_model
    decoded = module.decode_image(model, (FIXTURES / f"input.{suffix}").read_bytes(), fingerprint(model))
    assert np.array_equal(decoded, read_image(FIXTURES / "decoded.png"))


@pytest.mark.parametrize("suffix, module", [("hf", entropy_coded), ("hs", sparse_matrix)])
def test_encoding_the_old_input_gives_the_old_bytes(old_model, suffix, module):
    model, _ = old_model
    image = read_image(FIXTURES / "input.png")
    data, _ = module.encode_image(model, image, "tiny-lo", fingerprint(model))
    old = (FIXTURES / f"input.{suffix}").read_bytes()
    # Format 2 differs only in its version byte and the rules byte after the fingerprint (0: our own rules).
    after_fingerprint = 2 + 1 + 1 + len("tiny-lo") + 4
    assert (old[2], data[2]) == (1, 2)
    assert data == old[:2] + b"\x02" + old[3:after_fingerprint] + b"\x00" + old[after_fingerprint:]
