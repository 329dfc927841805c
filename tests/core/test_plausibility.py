"""Suspicious rows: damaged reconstructions and curves that make no sense are flagged
(``bench/core/plausibility.py``), and today's correct codecs on Kodak raise no flag."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.core.plausibility import BELOW_DB, DROP_DB, flag_counts, flag_rows, image_checks

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_a_faithful_reconstruction_raises_nothing(kodim01):
    from bench.codecs.jpeg import JPEG

    codec = JPEG()
    bitstream = codec.encode(kodim01, 90)
    checks = image_checks(kodim01, codec.decode(bitstream), 8 * len(bitstream) / (512 * 768))
    assert checks["suspect"] == ""
    assert 0 < checks["max_abs_error"] < 128
    assert image_checks(kodim01, kodim01.copy(), 3.0) == {"max_abs_error": 0, "suspect": ""}


def test_samples_that_wrapped_around_are_suspect_only_at_a_high_rate(kodim01):
    # A decoder that overflows 8 bits: the brightest values come back near 0.
    wrapped = np.where(kodim01 >= 240, (kodim01.astype(int) + 20) % 256, kodim01).astype(np.uint8)
    error = np.abs(kodim01.astype(int) - wrapped)
    share = np.count_nonzero(error > 128) / error.size
    assert share > 1e-4
    assert image_checks(kodim01, wrapped, 1.5)["suspect"] == (
        f"{share:.2%} of samples off by more than 128 grey levels (up to {error.max()}) at 1.50 bpp")
    assert image_checks(kodim01, wrapped, 0.5)["suspect"] == ""


def test_a_constant_image_is_suspect(kodim01):
    assert image_checks(kodim01, np.full_like(kodim01, 7), 0.1)["suspect"] == "the decoded image is constant (7)"


def test_a_nearly_flat_image_is_suspect_and_the_lowest_rates_of_real_codecs_are_not(kodim01):
    # A broken model's haze: the original's mean with a little of its structure (an eighth of its contrast).
    haze = (kodim01.mean() + (kodim01.astype(float) - kodim01.mean()) / 8).round().astype(np.uint8)
    ratio = haze.std() / kodim01.std()
    assert image_checks(kodim01, haze, 0.05)["suspect"] == (
        f"the decoded image is nearly flat (standard deviation {haze.std():.1f} against the original's {kodim01.std():.1f})")
    assert ratio < 0.25
    from bench.codecs.jpeg import JPEG

    lowest = JPEG().decode(JPEG().encode(kodim01, 1))
    assert image_checks(kodim01, lowest, 0.1)["suspect"] == ""


def test_the_same_bitstream_for_different_images_is_flagged():
    rows = [{"dataset": "d", "codec": codec, "image": image, "point": "lo", "bpp": 0.1, "psnr": 7.0, "status": "ok",
             "bitstream_sha256": digest}
            for codec, image, digest in [("broken", "a.png", "f00d"), ("broken", "b.png", "f00d"), ("fine", "a.png", "0001"),
                                         ("fine", "b.png", "0002")]]
    flags = flag_rows(pd.DataFrame(rows))
    assert list(zip(flags["codec"], flags["image"])) == [("broken", "a.png"), ("broken", "b.png")]
    assert flags["reason"].iloc[0] == "the same bitstream as 1 other image(s) (b.png): the codec ignores its input"


@pytest.mark.parametrize("down, across", [(2, -3), (0, 1), (-4, 0)])
def test_a_shifted_image_is_suspect_with_its_offset(kodim01, down, across):
    shifted = np.roll(kodim01, (down, across), axis=(0, 1))
    assert image_checks(kodim01, shifted, 0.5)["suspect"] == f"the decoded image is shifted by {across} px across and {down} px down"


def test_a_shifted_noisy_decode_is_suspect_and_a_noisy_one_in_place_is_not(kodim01):
    noise = np.random.default_rng(0).normal(0, 6, kodim01.shape)
    in_place = np.clip(kodim01 + noise, 0, 255).astype(np.uint8)
    assert image_checks(kodim01, in_place, 0.5)["suspect"] == ""
    shifted = np.roll(in_place, (3, 3), axis=(0, 1))
    assert image_checks(kodim01, shifted, 0.5)["suspect"] == "the decoded image is shifted by 3 px across and 3 px down"


def test_the_htj2k_rows_as_first_committed_raise_flags_on_kodim20():
    """The rows measured with the decoder that wrapped saturated pixels (reports/kodak before the fix)."""
    flags = flag_rows(pd.read_csv(FIXTURES / "htj2k_wrapping_kodak.csv"))
    assert flag_counts(flags) == {"htj2k": 7}
    assert set(flags["image"]) == {"kodim20.png"}
    falls = flags[flags["reason"].str.startswith("PSNR falls")]
    assert list(falls["point"].astype(str)) == ["200", "140", "100"]
    assert all(float(reason.split()[2]) >= DROP_DB for reason in falls["reason"])  # printed to 0.1 dB
    below = flags[flags["reason"].str.contains("below the median")]
    assert all(float(reason.split()[1]) > BELOW_DB for reason in below["reason"])


def test_the_committed_kodak_report_raises_no_flag():
    """Every codec of reports/kodak (classical and learned, HTJ2K re-measured) passes the thresholds."""
    table = pd.read_csv(REPO / "reports" / "kodak" / "results.csv")
    assert set(table["codec"]) >= {"jpeg", "htj2k", "hevc", "hific-cpu-dense", "hific-cpu-sparse-sparse-matrix"}
    assert flag_rows(table).empty


def test_a_run_with_the_wrapping_decoder_is_caught_by_verification_and_flags(tmp_path, kodak_dir):
    from bench.core.benchmark import run_benchmark
    from bench.metrics.psnr import PSNR
    from bench.core.plan import ImageSource, RunPlan
    from test_conformance import WrappingJPEG2000

    images = [ImageSource("kodak", name, kodak_dir / name) for name in ("kodim19.png", "kodim20.png")]
    codec = WrappingJPEG2000()
    plan = RunPlan(images=images, codecs={codec.name: codec}, metrics=[PSNR()], settings={codec.name: [8]}, verify=True)
    table = run_benchmark(plan, tmp_path / "run", jobs=1).results

    assert (table["bpp"] > 1.0).all()
    assert table["reference_check"].str.startswith("mismatch: max difference 137 > 0 allowed").all()
    flags = flag_rows(table)
    assert list(flags["image"]) == ["kodim19.png", "kodim20.png"]
    assert flags["reason"].str.contains(r"^\d+\.\d\d% of samples off by more than 128 grey levels \(up to 137\) at").all()


def test_past_the_reference_images_a_row_far_below_is_still_flagged_and_only_it():
    from bench.core.plausibility import REFERENCE_IMAGES

    rng = np.random.default_rng(3)
    rows = []
    for index in range(REFERENCE_IMAGES + 150):
        offset = rng.normal(0, 1.0) - (20.0 if index == 77 else 0.0)  # img00077 lies 20 dB under the others
        for rank, bpp in enumerate((0.25, 0.5, 1.0, 2.0)):
            rows.append({"dataset": "d", "codec": "jpeg", "image": f"img{index:05d}.png", "point": str(rank), "bpp": bpp,
                         "psnr": 30.0 + 5 * rank + offset, "status": "ok"})
    flags = flag_rows(pd.DataFrame(rows))
    assert set(flags["image"]) == {"img00077.png"} and len(flags) == 4
    # 256 of the 406 images, spread evenly by name (img00077 is not one of them), read at each of its rows.
    assert all(f"below the median of the codec's other {REFERENCE_IMAGES} images" in reason for reason in flags["reason"])


def test_the_flat_check_s_shortcut_never_hides_a_flat_image(kodim01):
    # Hazes from an eighth to all of the original's contrast, with and without noise: the check's bound
    # (max_abs_error against the original's detail) must give the flag exactly where the plain rule does.
    rng = np.random.default_rng(0)
    detail = float(kodim01.std())
    for contrast in (1 / 8, 0.2, 0.24, 0.26, 0.3, 0.5, 1.0):
        for noise in (0.0, 3.0):
            haze = kodim01.mean() + (kodim01.astype(float) - kodim01.mean()) * contrast + rng.normal(0, noise, kodim01.shape)
            haze = haze.clip(0, 255).round().astype(np.uint8)
            flat = haze.std() < 0.25 * detail
            checked = image_checks(kodim01, haze, 0.1, detail)
            assert checked == image_checks(kodim01, haze, 0.1)
            assert checked["suspect"].startswith("the decoded image is nearly flat") == flat, (contrast, noise)
