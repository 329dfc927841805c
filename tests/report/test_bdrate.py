"""BD-rate and BD-metric against the bjontegaard package and against known shifts."""
import bjontegaard
import numpy as np
import pytest

from bench.report.bdrate import bd_metric, bd_rate

ANCHOR_BPP = np.array([0.12, 0.25, 0.5, 1.0, 2.0])
ANCHOR_PSNR = np.array([26.1, 28.4, 31.0, 34.2, 37.9])
TEST_BPP = np.array([0.1, 0.22, 0.45, 0.93, 1.8])
TEST_PSNR = np.array([26.4, 28.9, 31.5, 34.6, 38.1])
#: LPIPS falls (improves) as bpp rises.
ANCHOR_LPIPS = np.array([0.42, 0.31, 0.2, 0.11, 0.05])


def test_bd_rate_equals_the_bjontegaard_package():
    expected = bjontegaard.bd_rate(ANCHOR_BPP, ANCHOR_PSNR, TEST_BPP, TEST_PSNR, method="pchip")
    assert bd_rate(ANCHOR_BPP, ANCHOR_PSNR, TEST_BPP, TEST_PSNR).value == pytest.approx(expected, rel=1e-12)
    assert expected < 0  # the test curve is above and left of the anchor


def test_bd_metric_equals_the_bjontegaard_package():
    expected = bjontegaard.bd_psnr(ANCHOR_BPP, ANCHOR_PSNR, TEST_BPP, TEST_PSNR, method="pchip")
    assert bd_metric(ANCHOR_BPP, ANCHOR_PSNR, TEST_BPP, TEST_PSNR).value == pytest.approx(expected, rel=1e-12)


def test_ten_percent_fewer_bits_everywhere_gives_minus_ten_percent():
    assert bd_rate(ANCHOR_BPP, ANCHOR_PSNR, 0.9 * ANCHOR_BPP, ANCHOR_PSNR).value == pytest.approx(-10.0, abs=1e-9)


def test_lower_is_better_metric_keeps_the_rate_sign_and_reports_test_minus_anchor():
    assert bd_rate(ANCHOR_BPP, ANCHOR_LPIPS, 0.9 * ANCHOR_BPP, ANCHOR_LPIPS).value == pytest.approx(-10.0, abs=1e-9)
    # LPIPS 0.01 lower at every rate: BD-LPIPS is -0.01, i.e. better.
    assert bd_metric(ANCHOR_BPP, ANCHOR_LPIPS, ANCHOR_BPP, ANCHOR_LPIPS - 0.01).value == pytest.approx(-0.01, abs=1e-12)


def test_unsorted_points_give_the_same_numbers():
    order = np.array([3, 0, 4, 2, 1])
    shuffled = bd_rate(ANCHOR_BPP[order], ANCHOR_PSNR[order], TEST_BPP, TEST_PSNR).value
    assert shuffled == pytest.approx(bd_rate(ANCHOR_BPP, ANCHOR_PSNR, TEST_BPP, TEST_PSNR).value, rel=1e-12)


def test_curves_without_overlap_are_not_available_with_the_reason():
    result = bd_rate(ANCHOR_BPP[:2], ANCHOR_PSNR[:2], ANCHOR_BPP[3:], ANCHOR_PSNR[3:])
    assert result.value is None
    assert result.reason.startswith("metric ranges do not overlap")
    assert result.format() == f"n/a ({result.reason})"
    assert "bpp ranges do not overlap" in bd_metric(ANCHOR_BPP[:2], ANCHOR_PSNR[:2], ANCHOR_BPP[3:], ANCHOR_PSNR[3:]).reason


def test_non_monotonic_curve_has_no_bd_rate_but_has_a_bd_metric():
    bumpy = np.array([26.1, 28.4, 28.0, 34.2, 37.9])
    assert bd_rate(ANCHOR_BPP, bumpy, TEST_BPP, TEST_PSNR).reason == "anchor's metric is not monotonic in bpp"
    assert bd_metric(ANCHOR_BPP, bumpy, TEST_BPP, TEST_PSNR).value is not None


def test_a_single_point_is_not_a_curve():
    assert bd_rate(ANCHOR_BPP[:1], ANCHOR_PSNR[:1], TEST_BPP, TEST_PSNR).reason == "anchor has 1 usable point(s), needs 2"


def test_a_repeated_point_counts_once():
    # Two rate-control targets below the knob's range give the lowest setting's point twice.
    repeated_bpp, repeated_psnr = np.r_[ANCHOR_BPP[:1], ANCHOR_BPP], np.r_[ANCHOR_PSNR[:1], ANCHOR_PSNR]
    expected = bd_rate(ANCHOR_BPP, ANCHOR_PSNR, TEST_BPP, TEST_PSNR).value
    assert bd_rate(repeated_bpp, repeated_psnr, TEST_BPP, TEST_PSNR).value == pytest.approx(expected, rel=1e-12)
    assert bd_metric(TEST_BPP, TEST_PSNR, repeated_bpp, repeated_psnr).value == pytest.approx(
        bd_metric(TEST_BPP, TEST_PSNR, ANCHOR_BPP, ANCHOR_PSNR).value, rel=1e-12
    )
    # The same bpp with a different value is not a repeat: that curve stays unusable.
    clash = np.r_[ANCHOR_PSNR[:1] + 1, ANCHOR_PSNR]
    assert bd_rate(repeated_bpp, clash, TEST_BPP, TEST_PSNR).reason == "anchor has two points at the same bpp"
