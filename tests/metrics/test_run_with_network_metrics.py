"""`bench run --metrics psnr,lpips,fid,kid` end to end on one Kodak image, then a rerun."""
from __future__ import annotations

import pandas as pd

from bench.cli import main


def test_run_fills_lpips_and_distribution_table_and_rerun_does_nothing(data_dir, weights_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    arguments = [
        "run", "--codecs", "jpeg", "--dataset", "kodak", "--data-dir", str(data_dir), "--limit", "1",
        "--settings", "jpeg=5,90", "--metrics", "psnr,lpips,fid,kid", "--weights-dir", str(weights_dir),
        "--out", str(tmp_path / "run"), "--jobs", "1",
    ]  # fmt: skip
    assert main(arguments) == 0
    first = capsys.readouterr().out
    results = pd.read_csv(tmp_path / "run" / "results.csv")
    assert results["lpips"].between(0.001, 1).all() and results["lpips"].is_monotonic_decreasing
    table = pd.read_parquet(tmp_path / "run" / "distribution_metrics.parquet")
    assert list(table.columns) == [
        "dataset", "codec", "point", "mean_bpp", "fid", "kid_mean", "kid_std", "n_patches", "n_images", "fid_note",
    ]  # fmt: skip
    assert table["point"].tolist() == ["5", "90"] and table["n_patches"].tolist() == [8, 8]
    assert table["fid"].iloc[0] > table["fid"].iloc[1] > 0
    # 8 patches per set: kid_mean is the whole-set estimate, kid_std the spread over subsets of 4.
    assert (table["kid_std"] > 0).all()
    assert "compare codecs by KID" in first
    assert len(list((tmp_path / "cache" / "features").glob("*/*.npy"))) == 1

    monkeypatch.setattr("bench.metrics.inception.inception_features", None)  # any feature work would fail now
    assert main(arguments) == 0
    assert "0 to run" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "run" / "distribution_metrics.parquet"), table)
