"""Each classical codec: the runner's row equals an independent Pillow + skimage computation."""
from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio

from bench.codecs.registry import all_codecs
from bench.imageio import read_image
from bench.metrics.ms_ssim import MSSSIM
from bench.metrics.psnr import PSNR
from bench.core.points import OperatingPoint
from bench.core.rundir import RunDir
from bench.core.measure import measure_job
from bench.core.plan import ImageSource, Job, RunPlan

# Pillow's own save calls, written out independently of the codec classes.
INDEPENDENT = {
    "jpeg": (30, lambda: None, dict(format="JPEG", quality=30, subsampling="4:2:0", optimize=True)),
    "webp": (50, lambda: None, dict(format="WEBP", quality=50, method=6, lossless=False)),
    "jpeg2000": (
        64, lambda: None,
        dict(format="JPEG2000", quality_mode="rates", quality_layers=[64.0], irreversible=True, no_jp2=True, mct=1),
    ),
    "avif": (45, lambda: None, dict(format="AVIF", quality=45, subsampling="4:2:0", speed=6, max_threads=1)),
    "jpegxl": (55, lambda: __import__("pillow_jxl"), dict(format="JXL", quality=55, effort=7, lossless=False, num_threads=0)),
    "hevc": (
        28, lambda: __import__("pillow_heif").register_heif_opener(),
        dict(format="HEIF", quality=28, chroma=420, enc_params={"x265:pools": "1", "x265:frame-threads": "1"}),
    ),
}


@pytest.fixture(scope="module")
def kodim23(kodak_dir):
    return ImageSource("kodak", "kodim23.png", kodak_dir / "kodim23.png")


@pytest.mark.parametrize("codec_name", sorted(INDEPENDENT))
def test_row_equals_independent_pillow_and_skimage(codec_name, kodim23, tmp_path):
    setting, load_plugin, save_options = INDEPENDENT[codec_name]
    codec = all_codecs()[codec_name]
    metrics = [PSNR(), MSSSIM()]
    plan = RunPlan(images=[kodim23], codecs={codec_name: codec}, metrics=metrics, save_reconstructions=True)
    measured = measure_job(Job(kodim23, codec_name, OperatingPoint(setting)), codec, metrics, plan)
    row = measured.row
    assert row["status"] == "ok", row["error"]
    for relpath, data in measured.files.items():  # what the main side does with a row's files
        RunDir(tmp_path).save_file(data, relpath)

    load_plugin()
    reference = np.asarray(Image.open(kodim23.path).convert("RGB"))
    buffer = io.BytesIO()
    Image.fromarray(reference).save(buffer, **save_options)
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))

    assert row["bytes"] == len(buffer.getvalue())
    assert row["bpp"] == 8 * len(buffer.getvalue()) / (768 * 512)
    assert abs(row["psnr"] - peak_signal_noise_ratio(reference, decoded, data_range=255)) < 1e-6
    assert (row["width"], row["height"], row["point"], row["setting"]) == (768, 512, str(setting), setting)
    assert row["codec_version"] == codec.version()
    # The saved reconstruction is exactly what the independent decode gives (same hash).
    assert row["recon_path"] == f"recon/kodak/{codec_name}/{setting}/kodim23.png"
    saved = read_image(tmp_path / row["recon_path"])
    assert hashlib.sha256(saved.tobytes()).hexdigest() == hashlib.sha256(decoded.tobytes()).hexdigest()


@pytest.mark.parametrize("codec_name", sorted(INDEPENDENT))
def test_bitstream_decodes_to_the_measured_image(codec_name, kodim01):
    codec = all_codecs()[codec_name]
    setting = INDEPENDENT[codec_name][0]
    bitstream = codec.encode(kodim01, setting)
    first, second = codec.decode(bitstream), codec.decode(bytes(bitstream))
    assert first.dtype == np.uint8 and first.shape == kodim01.shape
    assert hashlib.sha256(first.tobytes()).digest() == hashlib.sha256(second.tobytes()).digest()
    assert abs(PSNR().measure(kodim01, first)["psnr"] - peak_signal_noise_ratio(kodim01, first, data_range=255)) < 1e-6


@pytest.mark.parametrize("codec_name", sorted(INDEPENDENT))
def test_more_quality_means_more_bits(codec_name, kodim01):
    codec = all_codecs()[codec_name]
    sizes = [len(codec.encode(kodim01, setting)) for setting in (codec.settings[1], codec.settings[-2])]
    assert sizes[0] < sizes[1]


def test_jpegli_is_a_standard_jpeg_that_libjpeg_turbo_reads(kodim01):
    import pyjpegli

    codec = all_codecs()["jpegli"]
    bitstream = codec.encode(kodim01, 50)
    assert bitstream[:2] == b"\xff\xd8" and bitstream == pyjpegli.encode(kodim01.tobytes(), 768, 512, 50)
    decoded = codec.decode(bitstream)
    assert np.array_equal(decoded, np.asarray(Image.open(io.BytesIO(bitstream)).convert("RGB")))
    assert 27 < peak_signal_noise_ratio(kodim01, decoded, data_range=255) < 40


def test_htj2k_setting_is_the_quantisation_step_in_thousandths(kodim01):
    import imagecodecs

    codec = all_codecs()["htj2k"]
    bitstream = codec.encode(kodim01, 100)
    assert bitstream == bytes(imagecodecs.htj2k_encode(kodim01, level=0.1))
    # Decoded by OpenJPEG (imagecodecs' OpenJPH binding wraps overflowing samples: docs/checks.md).
    assert np.array_equal(codec.decode(bitstream), imagecodecs.jpeg2k_decode(bitstream))
    assert len(codec.encode(kodim01, 200)) < len(bitstream) < len(codec.encode(kodim01, 50))
