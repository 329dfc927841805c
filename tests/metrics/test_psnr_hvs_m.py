import numpy as np
import pytest

from bench.metrics.psnr_hvs_m import PSNRHVSM, pad_to_blocks, psnr_hvs_hvsm


def test_baboon_matches_ponomarenkos_code(reference_pair):
    # Ponomarenko's psnrhvsm.m run in Octave on this pair, as psnr_hvsm's tests/test_psnr_hvsm.py states it.
    reference, distorted = reference_pair("baboon.png", "baboon_msk.png")
    hvs, hvsm = psnr_hvs_hvsm(reference / 255, distorted / 255)
    assert hvs == pytest.approx(34.42705450576435, abs=1e-9)
    assert hvsm == pytest.approx(51.64722121999962, abs=1e-9)


def test_the_metric_scores_the_luma_padded_to_whole_blocks(kodim01_crop, jpeg):
    # 250 x 379: neither side a multiple of 8, so the edge rows and columns are replicated.
    reference, reconstruction = kodim01_crop[:250, :379], jpeg(kodim01_crop[:250, :379], 50)
    values = PSNRHVSM().measure(reference, reconstruction)
    assert 30 < values["psnr_hvs"] < values["psnr_hvs_m"] < 50
    assert PSNRHVSM().measure(reference, reference) == {"psnr_hvs_m": 100.0, "psnr_hvs": 100.0}


def test_padding_replicates_the_last_row_and_column():
    plane = np.arange(9 * 10, dtype=float).reshape(9, 10)
    padded = pad_to_blocks(plane)
    assert padded.shape == (16, 16)
    np.testing.assert_array_equal(padded[15, :10], plane[8])
    np.testing.assert_array_equal(padded[:9, 15], plane[:, 9])


def test_without_the_gpl_extra_the_metric_says_how_to_get_it(monkeypatch):
    import builtins

    import pytest

    from bench.errors import BenchError
    from bench.metrics.psnr_hvs_m import PSNRHVSM

    real_import = builtins.__import__

    def no_psnr_hvsm(name, *args, **kwargs):
        if name == "psnr_hvsm":
            raise ImportError("No module named 'psnr_hvsm'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psnr_hvsm)
    with pytest.raises(BenchError, match=r"^psnr_hvs_m: needs the GPL-3.0 package psnr-hvsm; pip install 'codec-bench\[gpl\]'$"):
        PSNRHVSM().check()
