"""The command line as a user meets it: help, listings, clear one-line errors, plug-in codecs."""
from __future__ import annotations

import textwrap

import pandas as pd

from cli_helpers import run_bench


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    return lines[0]


def test_unknown_codec_is_one_clear_line(tmp_path):
    line = _one_error_line(run_bench("run", "--codecs", "jpeg,mp3", "--out", str(tmp_path)))
    assert line.startswith("bench: error: unknown codec mp3; known codecs:") and "jpeg" in line


def test_unknown_dataset_is_one_clear_line(tmp_path):
    line = _one_error_line(run_bench("run", "--codecs", "jpeg", "--dataset", "imagenet", "--out", str(tmp_path)))
    assert "unknown dataset 'imagenet'" in line and "kodak" in line


def test_missing_data_directory_is_one_clear_line(tmp_path):
    line = _one_error_line(run_bench("run", "--codecs", "jpeg", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run")))
    assert "data directory" in line and "does not exist" in line


def test_unknown_metric_and_bad_settings_are_one_clear_line(tmp_path):
    assert "unknown metric vmaf" in _one_error_line(run_bench("run", "--codecs", "jpeg", "--metrics", "psnr,vmaf", "--out", str(tmp_path)))
    assert "expected CODEC=V1,V2" in _one_error_line(run_bench("run", "--codecs", "jpeg", "--settings", "jpeg", "--out", str(tmp_path)))


def test_codecs_lists_each_codec_with_library_and_grid():
    result = run_bench("codecs")
    assert result.returncode == 0
    assert "jpeg                   pillow " in result.stdout
    assert "settings: 2, 5, 10, 20, 35, 50, 70, 85" in result.stdout
    assert "pillow-jxl-plugin" in result.stdout and "pillow-heif" in result.stdout


def test_help_shows_defaults():
    result = run_bench("run", "--help")
    assert "--jobs JOBS" in result.stdout and "(default: psnr,ms_ssim)" in result.stdout


def test_third_party_codec_registers_through_an_entry_point(tmp_path, kodak_dir):
    plugin = tmp_path / "plugin"
    (plugin / "identity_codec").mkdir(parents=True)
    (plugin / "identity_codec" / "__init__.py").write_text(textwrap.dedent('''
        import numpy as np
        from bench.codecs.base import Codec

        class Identity(Codec):
            """Raw pixels with a 4-byte shape header: lossless, 24 bpp plus header."""
            name = "identity"
            library = "identity-codec"
            default_settings = (0,)

            def encode(self, image, setting):
                height, width = image.shape[:2]
                return height.to_bytes(2, "big") + width.to_bytes(2, "big") + image.tobytes()

            def decode(self, bitstream):
                height, width = int.from_bytes(bitstream[:2], "big"), int.from_bytes(bitstream[2:4], "big")
                return np.frombuffer(bitstream[4:], np.uint8).reshape(height, width, 3)
    '''))
    dist_info = plugin / "identity_codec-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: identity-codec\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[codec_bench.codecs]\nidentity = identity_codec:Identity\n")

    listing = run_bench("codecs", PYTHONPATH=str(plugin))
    assert "identity               identity-codec 1.0" in listing.stdout

    result = run_bench("run", "--codecs", "identity", "--dataset", "kodak", "--limit", "1", "--out", str(tmp_path / "run"), PYTHONPATH=str(plugin))
    assert result.returncode == 0, result.stderr
    row = pd.read_csv(tmp_path / "run" / "results.csv", dtype={"codec_version": str}).iloc[0]
    assert row["bytes"] == 768 * 512 * 3 + 4 and row["psnr"] == float("inf") and row["codec_version"] == "1.0"
