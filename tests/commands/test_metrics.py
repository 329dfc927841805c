"""``bench metrics`` as a user runs it."""
from bench.commands.metrics import load_costs
from bench.metrics.registry import BUILTIN_METRICS
from cli_helpers import run_bench


def test_lists_every_metric_with_columns_direction_library_and_cost(weights_dir):
    # The shared weights hold LPIPS's and FID's networks but not DISTS's trunk: DISTS says where it goes.
    result = run_bench("metrics", "--weights-dir", str(weights_dir))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    listed = {line.split()[0] for line in lines if line and not line.startswith((" ", "--", "costs:"))}
    assert listed == set(BUILTIN_METRICS)
    text = result.stdout
    assert "psnr_yuv: YUV PSNR (6:1:1), dB, higher is better" in text
    assert "nlpd: NLPD, lower is better" in text
    assert "fid: FID, lower is better, one value per set of images" in text
    assert any(line.startswith("vif ") and "piq 0.8.0" in line and "s/MP" in line for line in lines)
    assert "missing weights file" in text and "dists_vgg16_features/vgg16_features_imagenet.pth" in text
    assert "--metrics ctc: yuv_psnr, ms_ssim_y, vif, fsim, nlpd, iw_ssim, vmaf, psnr_hvs_m" in text
    assert "costs: " in text and "benchmarks/metric_cost_per_mp.py" in text


def test_every_builtin_metric_has_a_stored_cost():
    costs = load_costs()
    assert set(costs["seconds_per_megapixel"]) >= set(BUILTIN_METRICS)
    assert all(seconds > 0 for seconds in costs["seconds_per_megapixel"].values())
