"""Reports on a `--target-bpp` run whose lowest targets clamp at the end of the codecs' knobs."""
import re

import pandas as pd
import pytest

from bench.report.curves import mean_curve
from bench.report.html import build_report
from bench.report.matched import compare
from bench.report.rundata import load_run


@pytest.fixture(scope="module")
def run(rate_controlled_run):
    return load_run(rate_controlled_run)


@pytest.fixture(scope="module")
def psnr(run):
    (quantity,) = [q for q in run.quantities if q.column == "psnr"]
    return quantity


def test_targets_below_the_knob_repeat_the_lowest_setting(rate_controlled_run):
    results = pd.read_csv(rate_controlled_run / "results.csv")
    clamped = results[results["target_bpp"] < 0.05]
    assert len(clamped) == 8  # 2 images x 2 codecs x 2 targets
    assert set(clamped.loc[clamped["codec"] == "jpeg", "setting"]) == {1}
    assert set(clamped.loc[clamped["codec"] == "jpeg2000", "setting"]) == {1000}
    assert set(clamped["point"]) == {"target_bpp=0.01", "target_bpp=0.02"}
    repeats = clamped.groupby(["image", "codec"])[["bytes", "psnr"]].nunique()
    assert (repeats == 1).all().all()  # the same bitstream and the same PSNR for both targets


def test_repeated_points_count_once_in_the_mean_curve(run, psnr):
    curve = mean_curve(run, psnr, "jpeg")
    assert len(curve) == 3 and curve["bpp"].is_monotonic_increasing
    assert curve["point"].iloc[0] == "target_bpp=0.01"


def test_comparison_has_numbers_on_every_image(run):
    comparison = compare(run, "jpeg", "jpeg2000")
    assert comparison.bpp_points
    for row in comparison.rows:
        assert row.estimate is not None, (row.quantity.label, row.kind, row.reason)
        assert row.estimate.n_images == 2


def test_report_bd_matrix_has_numbers(rate_controlled_run, tmp_path):
    text = build_report(rate_controlled_run, tmp_path / "report.html", anchor="jpeg", originals={}).read_text()
    row = re.search(r"<tr><td>jpeg2000</td>(.*?)</tr>", text.split('<section id="bd-rates">')[1]).group(1)
    cells = re.findall(r"<td class=\"num\"[^>]*>([^<]+)", row)
    assert len(cells) == 2  # PSNR, MS-SSIM (the dB twin of MS-SSIM has the same BD-rate)
    for cell in cells:
        assert re.fullmatch(r"[-+]\d+\.\d % \[[-+]\d+\.\d, [-+]\d+\.\d\]", cell)
