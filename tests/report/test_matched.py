"""Matched-bpp comparison: bootstrap intervals over images on synthetic per-image curves."""
import re

import numpy as np
import pandas as pd
import pytest
from scipy.interpolate import PchipInterpolator

from bench.report.curves import interpolate_at
from bench.report.matched import bootstrap_mean, common_bpp_points, compare, verdict
from bench.metrics.psnr import PSNR
from bench.report.rundata import RunData, quantities_of
from bench.core.rundir import RunDir

N_IMAGES = 16
SETTINGS = np.arange(1, 7)


def synthetic_run(psnr_shift: float, rate_factor: float = 1.0, seed: int = 1) -> RunData:
    """Codec A: PSNR = 30 + 4 log2(bpp) + per-image offset. Codec B: A's curve with every bpp
    multiplied by ``rate_factor`` and every PSNR raised by ``psnr_shift`` plus per-image noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(N_IMAGES):
        image = f"img{index:02d}.png"
        base_bpp = 0.08 * 2.0 ** (SETTINGS * 0.8) * rng.uniform(0.7, 1.4)
        offset = rng.normal(0, 2)
        noise = rng.normal(0, 0.15)
        for setting, bpp in zip(SETTINGS, base_bpp):
            psnr = 30 + 4 * np.log2(bpp) + offset
            rows.append({"image": image, "codec": "A", "point": str(setting), "bpp": bpp, "psnr": psnr})
            rows.append({"image": image, "codec": "B", "point": str(setting), "bpp": bpp * rate_factor,
                         "psnr": psnr + psnr_shift + noise})
    results = pd.DataFrame(rows).assign(dataset="synthetic", status="ok")
    return RunData(RunDir("synthetic"), results, {}, None, quantities_of(PSNR.columns))


def rows_of(comparison, kind_prefix):
    return [row for row in comparison.rows if row.kind.startswith(kind_prefix)]


def test_interval_contains_a_known_psnr_shift():
    comparison = compare(synthetic_run(psnr_shift=0.4), "A", "B")
    for row in rows_of(comparison, "BD-metric") + rows_of(comparison, "at "):
        estimate = row.estimate
        assert estimate.low <= 0.4 <= estimate.high, row.kind
        assert estimate.significant
        assert estimate.n_images == N_IMAGES


def test_interval_contains_a_known_rate_saving():
    comparison = compare(synthetic_run(psnr_shift=0.0, rate_factor=0.9), "A", "B")
    (bd,) = rows_of(comparison, "BD-rate")
    assert bd.estimate.low <= -10.0 <= bd.estimate.high
    assert -13 < bd.estimate.mean < -7


def test_zero_shift_interval_contains_zero_and_the_verdict_says_so():
    comparison = compare(synthetic_run(psnr_shift=0.0), "A", "B")
    for row in comparison.rows:
        assert row.estimate.low <= 0 <= row.estimate.high, row.kind
        assert not row.estimate.significant
    text = verdict(comparison)
    assert "no significant difference in PSNR" in text
    assert "no significant difference:" in text  # the BD-rate clause


def test_verdict_states_direction_and_interval():
    comparison = compare(synthetic_run(psnr_shift=-0.5), "A", "B")
    text = verdict(comparison)
    middle = comparison.bpp_points[len(comparison.bpp_points) // 2]
    assert text.startswith(f"At {middle:g} bpp, compared with A, B is 0.")
    assert "dB [" in text and "lower (worse) in PSNR" in text
    assert "more bits for the same PSNR" in text


def test_verdict_falls_back_to_bd_metric_when_no_bpp_point_is_common():
    comparison = compare(synthetic_run(psnr_shift=-0.5), "A", "B")
    comparison.bpp_points = []
    comparison.rows = [row for row in comparison.rows if row.kind == "BD-metric"]
    text = verdict(comparison)
    assert text.startswith("No single bpp lies inside both codecs' ranges; over each image's common range")
    low, high = map(float, re.search(r"B is [0-9.]+ dB \[([0-9.]+), ([0-9.]+)\] lower \(worse\) in PSNR", text).groups())
    assert low <= 0.5 <= high
    assert f"means over {N_IMAGES} images" in text


def test_common_points_lie_inside_every_image_range():
    run = synthetic_run(psnr_shift=0.0, rate_factor=0.9)
    from bench.report.curves import per_image_curves

    curves_a, curves_b = per_image_curves(run, "bpp", "A"), per_image_curves(run, "bpp", "B")
    points = common_bpp_points(curves_a, curves_b)
    assert len(points) == 3
    for curves in (curves_a, curves_b):
        for bpp, _ in curves.values():
            assert all(bpp[0] <= p <= bpp[-1] for p in points)


def test_interpolation_is_pchip_over_log_bpp_and_nan_outside():
    bpp = np.array([0.1, 0.2, 0.4, 0.8])
    value = np.array([25.0, 27.5, 30.5, 33.0])
    points = np.array([0.05, 0.1, 0.3, 0.8, 1.0])
    result = interpolate_at(bpp, value, points)
    assert np.isnan(result[0]) and np.isnan(result[-1])
    assert result[1] == 25.0 and result[3] == 33.0
    assert result[2] == pytest.approx(PchipInterpolator(np.log(bpp), value)(np.log(0.3)))


def test_bootstrap_mean_of_identical_values_is_that_value():
    estimate = bootstrap_mean([0.25, 0.25, 0.25])
    assert (estimate.mean, estimate.low, estimate.high, estimate.n_images) == (0.25, 0.25, 0.25, 3)


def test_unknown_codec_is_a_one_line_error():
    with pytest.raises(ValueError, match="codec 'C' has no successful rows .* codecs there: A, B"):
        compare(synthetic_run(0.0), "A", "C")


def test_single_point_codecs_are_compared_where_each_stands():
    # One setting each: no curve to match bpp on; B uses 20 % fewer bits and is 0.3 dB worse.
    run = synthetic_run(psnr_shift=-0.3, rate_factor=0.8)
    run.results = run.results[run.results["point"] == "3"]
    comparison = compare(run, "A", "B")
    assert comparison.bpp_points == []
    (bits,) = [row for row in comparison.rows if row.kind == "at own points" and row.quantity.column == "bpp"]
    assert bits.estimate.mean == pytest.approx(-20.0) and bits.estimate.n_images == N_IMAGES
    (psnr,) = [row for row in comparison.rows if row.kind == "at own points" and row.quantity.column == "psnr"]
    assert psnr.estimate.low <= -0.3 <= psnr.estimate.high and psnr.estimate.significant
    assert not any(row.kind.startswith("BD") for row in comparison.rows)  # no curve, no Bjontegaard delta
    assert re.search(r"no bpp can be matched directly; where each stands, compared with A, B uses 20 % \[20, 20\] fewer bits and "
                     r"is 0.\d+ dB \[0.\d+, 0.\d+\] lower \(worse\) in PSNR \(means over 16 images", verdict(comparison))


def test_single_point_codecs_read_against_a_curve_compare_at_matched_bpp():
    # A: a curve (PSNR = 30 + 4 log2 bpp + offset). "hi" sits on A's curve at setting 4; "lo" sits
    # 0.5 dB above A's curve at setting 2: fewer bits and less PSNR where it stands, but better
    # for its bits, by 0.5 dB read off A's curve.
    run = synthetic_run(psnr_shift=0.0)
    curve = run.results[run.results["codec"] == "A"]
    hi = curve[curve["point"] == "4"].assign(codec="hi")
    lo = curve[curve["point"] == "2"].assign(codec="lo")
    lo["psnr"] += 0.5
    run.results = pd.concat([curve, hi, lo], ignore_index=True)
    comparison = compare(run, "hi", "lo", via="A")
    (own,) = [row for row in comparison.rows if row.kind == "at own points" and row.quantity.column == "psnr"]
    assert own.estimate.mean == pytest.approx(-8 * 0.8 + 0.5)  # two settings = 1.6 doublings of bpp at 4 dB each
    (gap,) = [row for row in comparison.rows if row.kind == "gap to A at own bpp"]
    assert gap.estimate.mean == pytest.approx(0.5, abs=0.01) and gap.estimate.n_images == N_IMAGES
    assert "Read against A's curve at each one's own bpp (its exchange of bits for quality), lo is 0.5" in verdict(comparison)
    assert "higher (better) in PSNR than hi." in verdict(comparison)


def test_curves_that_exchange_bits_for_quality_differently_can_disagree_and_the_verdict_says_so():
    # As above, plus "flat": 1 dB per doubling of bpp where A gives 4. lo, 1.6 doublings below hi,
    # is 5.9 dB worse where it stands: 0.5 dB better read off A, 5.9 - 1.6 = 4.3 dB worse off flat.
    run = synthetic_run(psnr_shift=0.0)
    curve = run.results[run.results["codec"] == "A"]
    flat = curve.assign(codec="flat", psnr=curve["psnr"] - 3 * np.log2(curve["bpp"]))
    lo = curve[curve["point"] == "2"].assign(codec="lo")
    lo["psnr"] += 0.5
    run.results = pd.concat([curve, flat, curve[curve["point"] == "4"].assign(codec="hi"), lo], ignore_index=True)
    comparison = compare(run, "hi", "lo", via=["A", "flat"])
    assert comparison.vias == ("A", "flat")
    gaps = {row.kind: row.estimate.mean for row in comparison.rows if row.kind.startswith("gap")}
    assert gaps == {"gap to A at own bpp": pytest.approx(0.5, abs=0.01), "gap to flat at own bpp": pytest.approx(-4.3, abs=0.01)}
    assert "The sign depends on the curve read against: PSNR (A +0.5, flat -4.3)." in verdict(comparison)
