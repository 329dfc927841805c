"""VMAF v0.6.1 through ffmpeg's libvmaf, on raw frames; the same as ffmpeg reading the PNG files itself."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from PIL import Image

from bench.metrics.external import ProgramUnavailable
from bench.metrics.vmaf import VMAF, VMAFOptions, default_ffmpeg


def test_raw_frames_score_as_ffmpeg_reading_png_files(kodim01, jpeg, tmp_path):
    distorted = jpeg(kodim01, 30)
    Image.fromarray(kodim01).save(tmp_path / "reference.png")
    Image.fromarray(distorted).save(tmp_path / "distorted.png")
    log = tmp_path / "log.json"
    subprocess.run([
        default_ffmpeg(), "-loglevel", "error", "-i", str(tmp_path / "distorted.png"), "-i", str(tmp_path / "reference.png"),
        "-lavfi", f"[0:v]format=yuv444p[d];[1:v]format=yuv444p[r];[d][r]libvmaf=model=version=vmaf_v0.6.1:log_fmt=json:log_path={log}",
        "-f", "null", "-",
    ], check=True)
    expected = json.loads(log.read_text())["pooled_metrics"]["vmaf"]["mean"]
    assert VMAF().measure(kodim01, distorted)["vmaf"] == pytest.approx(expected, abs=1e-6)


def test_identical_scores_near_100_and_worse_jpeg_lower(kodim01, jpeg):
    crop = np.ascontiguousarray(kodim01[:256, :384])
    metric = VMAF()
    scores = [metric.measure(crop, image)["vmaf"] for image in (crop, jpeg(crop, 90), jpeg(crop, 20))]
    assert scores[0] > 97 and scores[0] > scores[1] > scores[2]


def test_an_ffmpeg_without_libvmaf_is_one_line():
    with pytest.raises(ProgramUnavailable, match=r"^vmaf: .*true has no libvmaf filter; pip install imageio-ffmpeg"):
        VMAF(VMAFOptions(ffmpeg="true")).check()
