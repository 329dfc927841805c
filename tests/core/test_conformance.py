"""Reference decoding: every classical codec agrees with its format's independent decoder, and a
decoder that damages its output is caught (``bench run --verify``, ``bench/core/conformance.py``)."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from bench.codecs.base import Codec
from bench.codecs.htj2k import HTJ2K
from bench.codecs.jpeg2000 import JPEG2000
from bench.codecs.registry import all_codecs
from bench.codecs.reference import CommandLineDecoder, FreshProcessDecoder
from bench.commands.tables import format_conformance
from bench.core.conformance import conformance_table, verify_row
from bench.metrics.psnr import psnr
from program_helpers import require_program

CLASSICAL = ["jpeg", "jpegli", "webp", "jpeg2000", "htj2k", "avif", "jpegxl", "hevc"]
#: Tolerances stated in docs/checks.md: 0 where both decoders share one library.
TOLERANCE = {"jpeg": 0, "jpegli": 0, "webp": 0, "jpeg2000": 0, "avif": 0, "htj2k": 1, "jpegxl": 1, "hevc": 1}


@pytest.fixture(scope="module")
def hard_image(kodak_dir) -> np.ndarray:
    """192 x 256: a Kodak crop with saturated highlights beside flat and clipped areas.

    Left: kodim20's white aircraft against the sky (pixels at 255). Right: flat 255 and 0
    blocks, a flat mid-grey block, and hard 0/255 stripes, whose ringing pushes decoded values
    past 0 and 255 (what a decoder must clamp, not wrap).
    """
    from bench.imageio import read_image

    image = np.zeros((192, 256, 3), np.uint8)
    image[:, :128] = read_image(kodak_dir / "kodim20.png")[200:392, 300:428]
    image[:64, 128:] = 255
    image[64:128, 128:] = 0
    image[128:, 128:192] = 128
    image[128:, 192:] = np.where((np.arange(64) // 4) % 2 == 0, 255, 0)[None, :, None]
    return image


@pytest.fixture(scope="module")
def classical_codecs() -> dict[str, Codec]:
    return all_codecs()


@pytest.mark.parametrize("name", CLASSICAL)
def test_each_classical_codec_agrees_with_its_reference_decoder_at_low_middle_and_high_settings(name, classical_codecs, hard_image):
    codec = classical_codecs[name]
    decoder = codec.reference_decoder
    require_program(decoder.tool, decoder.package)
    settings = codec.settings
    for setting in (settings[0], settings[len(settings) // 2], settings[-1]):
        bitstream = codec.encode(hard_image, setting)
        reconstruction = codec.decode(bitstream)
        check = verify_row(codec, bitstream, reconstruction)
        assert check["reference_check"] == "ok", (setting, check)
        assert check["reference_max_diff"] <= TOLERANCE[name] == decoder.tolerance
        assert check["reference_decoder"].startswith(decoder.tool + " ")


def test_htj2k_clamps_saturated_pixels_as_openjph_does(kodak_dir):
    """kodim20 at setting 25: the row that measured 17.97 dB when the decoder wrapped 255 to ~118."""
    from bench.imageio import read_image

    image = read_image(kodak_dir / "kodim20.png")
    codec = HTJ2K()
    bitstream = codec.encode(image, 25)
    decoded = codec.decode(bitstream)
    reference = codec.reference_decoder.decode(bitstream)
    assert np.abs(decoded.astype(int) - reference).max() <= 1
    assert psnr(image, decoded) == pytest.approx(psnr(image, reference), abs=0.05)
    assert psnr(image, decoded) > 40.0
    assert decoded[image == 255].min() > 200


class WrappingJPEG2000(JPEG2000):
    """JPEG 2000 with the old HTJ2K decoder's defect: a saturated sample comes back as 118."""

    name = "wrapping-jpeg2000"

    def decode(self, bitstream: bytes) -> np.ndarray:
        decoded = super().decode(bitstream).copy()
        decoded[decoded == 255] = 118
        return decoded


def test_a_decoder_that_wraps_saturated_pixels_is_a_mismatch(hard_image):
    codec = WrappingJPEG2000()
    bitstream = codec.encode(hard_image, 16)
    check = verify_row(codec, bitstream, codec.decode(bitstream))
    assert check["reference_max_diff"] == 255 - 118
    assert check["reference_check"] == "mismatch: max difference 137 > 0 allowed"


def test_a_missing_tool_is_one_line_naming_the_package(hard_image):
    class Elsewhere(JPEG2000):
        reference_decoder = CommandLineDecoder(tool="no-such-decoder", package="no-such-package", arguments=("{input}",), input_suffix=".j2k")

    codec = Elsewhere()
    bitstream = codec.encode(hard_image, 16)
    check = verify_row(codec, bitstream, codec.decode(bitstream))
    assert check["reference_check"] == "not checked: install no-such-package (no-such-decoder is not on PATH)"
    assert np.isnan(check["reference_max_diff"])


def test_a_codec_without_a_reference_decoder_is_not_checked_and_says_so(hard_image):
    class Unchecked(JPEG2000):
        name = "unchecked"
        reference_decoder = None

    codec = Unchecked()
    bitstream = codec.encode(hard_image, 16)
    assert verify_row(codec, bitstream, codec.decode(bitstream))["reference_check"] == "not checked: unchecked names no independent decoder"


def test_a_failing_reference_decode_is_a_mismatch_with_the_tool_s_message(hard_image):
    codec = JPEG2000()
    check = verify_row(codec, b"\xff\x4f\xff\x51 truncated", hard_image)
    assert check["reference_check"].startswith("mismatch: reference decoding failed (RuntimeError: opj_decompress exited with")


def test_a_learned_codec_decodes_alike_in_a_fresh_process(tmp_path, tiny_model, kodim01_crop):
    from bench.models.hific.checkpoint import save_checkpoint
    from hific_helpers import hific_codecs

    save_checkpoint(tiny_model, tmp_path / "lo.pt", {"target_rate": 0.14})
    image = np.ascontiguousarray(kodim01_crop[:96, :160])
    for codec in hific_codecs(checkpoints=(tmp_path / "lo.pt",)).values():
        bitstream = codec.encode(image, "lo")
        check = verify_row(codec, bitstream, codec.decode(bitstream))
        assert check["reference_check"] == "ok", (codec.name, check)
        assert check["reference_max_diff"] <= 1
        assert check["reference_decoder"] == f"fresh process, {2 if torch.get_num_threads() == 1 else 1} torch thread(s), cpu"


class ProcessBoundLatent(JPEG2000):
    """A codec whose 'latent' depends on the process that decodes it: what a non-deterministic
    entropy decoder would look like."""

    name = "process-bound"
    reference_decoder = FreshProcessDecoder()

    def decoded_latent(self, bitstream: bytes) -> np.ndarray:
        return np.array([os.getpid()])


def test_a_latent_that_differs_in_a_fresh_process_is_a_mismatch(hard_image):
    codec = ProcessBoundLatent()
    bitstream = codec.encode(hard_image, 16)
    check = verify_row(codec, bitstream, codec.decode(bitstream))
    assert check["reference_check"] == "mismatch: the fresh process recovers another latent (1 of 1 values differ)"
    assert check["reference_max_diff"] == 0


def test_conformance_table_counts_checked_rows_worst_difference_and_reasons():
    import pandas as pd

    frame = pd.DataFrame({
        "codec": ["a", "a", "a", "b", "c"],
        "status": ["ok", "ok", "error", "ok", "ok"],
        "reference_decoder": ["djpeg 2.1.5", "djpeg 2.1.5", None, "tool 1.0", None],
        "reference_max_diff": [0, 3, None, None, None],
        "reference_check": ["ok", "mismatch: max difference 3 > 0 allowed", None, "not checked: install tool-pkg (tool is not on PATH)", None],
    })
    table = conformance_table(frame)
    assert table.drop(columns="worst_diff").to_dict("records") == [
        {"codec": "a", "rows": 2, "checked": 2, "mismatches": 1, "decoder": "djpeg 2.1.5", "not_checked": ""},
        {"codec": "b", "rows": 1, "checked": 0, "mismatches": 0, "decoder": "tool 1.0", "not_checked": "install tool-pkg (tool is not on PATH)"},
    ]
    assert table["worst_diff"].iloc[0] == 3 and pd.isna(table["worst_diff"].iloc[1])
    assert format_conformance(table).splitlines() == [
        "  a  checked 2/2  worst diff 3  mismatches 1  by djpeg 2.1.5",
        "  b  checked 0/1  not checked: install tool-pkg (tool is not on PATH)",
    ]
