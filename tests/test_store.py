"""The tidy results table reads back identically from CSV and Parquet."""
from __future__ import annotations

import math

import pandas as pd

from bench.store import RESULT_COLUMNS, ResultStore, export


def _row(codec, quality, image, **extra):
    return {"dataset": "d", "image": image, "codec": codec, "setting": str(quality), "quality": quality,
            "width": 4, "height": 2, "bytes": 3, "bpp": 3.0, "psnr": math.inf, "status": "ok", "error": "", **extra}


def test_rows_are_replaced_by_key_and_exported_in_a_stable_order(tmp_path):
    with ResultStore(tmp_path / "results.sqlite") as store:
        store.write([_row("jpeg", 50, "b.png"), _row("jpeg", 5, "a.png")])
        store.write([_row("jpeg", 50, "b.png", bpp=1.5)])
        frame = export(store, tmp_path)
    assert list(frame.columns[: len(RESULT_COLUMNS)]) == list(RESULT_COLUMNS)
    assert list(frame["quality"]) == [5, 50] and list(frame["bpp"]) == [3.0, 1.5]
    from_csv = pd.read_csv(tmp_path / "results.csv")
    assert from_csv["psnr"].tolist() == [math.inf, math.inf]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), frame)


def test_text_settings_make_quality_a_text_column(tmp_path):
    with ResultStore(tmp_path / "results.sqlite") as store:
        store.write([_row("jpeg", 50, "a.png"), _row("hific", "lo", "a.png", bpp_estimate=0.1)])
        frame = export(store, tmp_path)
    assert frame["quality"].tolist() == ["lo", "50"]
    assert frame["bpp_estimate"].tolist()[0] == 0.1 and math.isnan(frame["bpp_estimate"].tolist()[1])
    assert pd.read_parquet(tmp_path / "results.parquet")["quality"].tolist() == ["lo", "50"]
