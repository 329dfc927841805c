from bench.api import _metrics
from bench.metrics.registry import BUILTIN_METRICS, METRIC_GROUPS, select_metrics


def test_ctc_selects_jpeg_ais_metric_set_in_its_order():
    assert METRIC_GROUPS["ctc"] == ("yuv_psnr", "ms_ssim_y", "vif", "fsim", "nlpd", "iw_ssim", "vmaf", "psnr_hvs_m")
    assert set(METRIC_GROUPS["ctc"]) <= set(BUILTIN_METRICS)
    assert list(select_metrics("ctc").chosen) == list(METRIC_GROUPS["ctc"])


def test_a_set_mixes_with_names_and_each_metric_comes_once():
    chosen = select_metrics("psnr,ctc,vif,lpips").chosen
    assert list(chosen) == ["psnr", *METRIC_GROUPS["ctc"], "lpips"]


def test_the_run_api_accepts_the_set_name_too():
    notes = []
    assert [metric.name for metric in _metrics("ctc", [], notes)] == list(METRIC_GROUPS["ctc"])
    assert notes == []
