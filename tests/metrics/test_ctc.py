import numpy as np

from bench.metrics.ctc import PEAK, ctc_luma, ctc_rgb, ctc_yuv
from ctc_reference import BT709_MATRIX, rgb10, yuv10


def test_planes_equal_the_bt709_matrix_on_the_10_bit_grid(kodim01):
    assert PEAK == 1023
    np.testing.assert_array_equal(np.rint(ctc_rgb(kodim01) * PEAK), rgb10(kodim01))
    codes = ctc_yuv(kodim01) * PEAK
    assert np.abs(codes - np.rint(codes)).max() < 1e-9
    # The matrix's own rounding error decides a code exactly half-way between two levels
    # (neutral chroma: 511.5), so there the two may differ by one; everywhere else they agree.
    unrounded = np.einsum("ij,hwj->ihw", BT709_MATRIX, rgb10(kodim01) / 1023) * 1023 + [[[0]], [[511.5]], [[511.5]]]
    tie = np.abs(unrounded - np.floor(unrounded) - 0.5) < 1e-6
    difference = np.abs(np.rint(codes) - yuv10(kodim01))
    assert difference[~tie].max() == 0 and difference[tie].max() <= 1
    np.testing.assert_array_equal(ctc_luma(kodim01), ctc_yuv(kodim01)[0])


def test_grey_has_neutral_chroma_and_its_own_level_as_luma():
    for level, luma_code in ((0, 0), (128, 514), (255, 1023)):
        grey = np.full((2, 2, 3), level, np.uint8)
        codes = [plane[0, 0] * PEAK for plane in ctc_yuv(grey)]
        # 128 / 255 * 1023 = 513.5..., rounded to 514; chroma 0.5 * 1023 = 511.5, rounded half to even.
        assert [round(code, 9) for code in codes] == [luma_code, 512, 512]


def test_saturated_colours_stay_inside_the_range():
    primaries = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]], np.uint8)
    planes = ctc_yuv(primaries)
    assert planes.min() >= 0 and planes.max() <= 1
    # Pure blue has the largest Cb: (1 - Kb) / 1.8556 + 0.5 = 1.0; pure red the largest Cr.
    assert round(planes[1, 0, 2] * PEAK) == 1023 and round(planes[2, 0, 0] * PEAK) == 1023
