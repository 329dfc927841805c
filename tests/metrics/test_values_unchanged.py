"""Every metric's values equal the baseline's: those of commit d11a4a9, before the metrics prepared
their reference side and before the speed-ups of docs/metrics.md ("What a row's metrics cost").

tests/fixtures/metric_values_d11a4a9.json is ``benchmarks/metric_values_reference.py`` run on that
commit (a git worktree): 20 value columns and the Inception features' digest on four small Kodak
cases. Here they are equal bit for bit; the tolerances let the test hold on other CPUs, where
float kernels (torch's, libjxl's, libvmaf's SIMD paths, LAPACK) round differently.
"""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASELINE = json.loads((ROOT / "tests" / "fixtures" / "metric_values_d11a4a9.json").read_text())
#: Relative tolerance per column: float64 numpy paths, float32 torch paths, external programs' output.
FLOAT64, FLOAT32, PROGRAM = 1e-9, 1e-5, 1e-4
TOLERANCE = {
    **dict.fromkeys(("psnr", "ssimulacra2", "niqe", "psnr_yuv", "psnr_y", "psnr_u", "psnr_v", "psnr_hvs_m", "psnr_hvs"), FLOAT64),
    **dict.fromkeys(("ms_ssim", "ms_ssim_y", "lpips", "vif", "fsim", "nlpd", "iw_ssim", "dists"), FLOAT32),
    **dict.fromkeys(("butteraugli_max", "butteraugli_3norm", "vmaf"), PROGRAM),
}


def load_script():
    spec = importlib.util.spec_from_file_location("metric_values_reference", ROOT / "benchmarks" / "metric_values_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def today(data_dir, weights_dir):
    return load_script().measure(data_dir, weights_dir)


def test_the_baseline_holds_every_column_of_today_s_full_set():
    case = BASELINE["cases"]["kodim01_256x384_q20"]
    assert BASELINE["source"].endswith("commit d11a4a9") and len(BASELINE["cases"]) == 4
    assert set(case["values"]) == set(TOLERANCE) - {"dists"}  # no VGG16 trunk for DISTS here, nor then


@pytest.mark.parametrize("case", sorted(BASELINE["cases"]))
def test_every_metric_value_equals_the_baseline_s(today, case):
    before, now = BASELINE["cases"][case], today["cases"][case]
    # The same pixels in (Pillow's JPEG is pinned): otherwise a difference would not be the metrics'.
    assert (now["reference_sha256"], now["reconstruction_sha256"]) == (before["reference_sha256"], before["reconstruction_sha256"])
    assert set(now["values"]) >= set(before["values"])
    for column, value in before["values"].items():
        assert math.isclose(now["values"][column], value, rel_tol=TOLERANCE[column], abs_tol=1e-12), (column, now["values"][column], value)


@pytest.mark.parametrize("case", sorted(BASELINE["cases"]))
def test_the_inception_features_equal_the_baseline_s(today, case):
    for key, before in BASELINE["cases"][case]["features"].items():
        now = today["cases"][case]["features"][key]
        assert now["rows"] == before["rows"] == 1
        assert now["sum"] == pytest.approx(before["sum"], rel=FLOAT32)
        assert now["first"] == pytest.approx(before["first"], rel=FLOAT32, abs=1e-6)
