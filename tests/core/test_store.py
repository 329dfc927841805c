"""The store keeps rows by key; the tidy results table reads back identically from CSV and Parquet."""
from __future__ import annotations

import math
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from bench.metrics.psnr import PSNR
from bench.core.rows import Measured
from bench.core.rundir import BASE_COLUMNS, RunDir, RunDirError, results_table
from bench.core.store import ResultStore

FIXTURE_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "run_dir_478e43a"


def _row(codec, setting, image, **extra):
    return Measured({"dataset": "d", "image": image, "codec": codec, "point": str(setting), "setting": setting,
                     "width": 4, "height": 2, "bytes": 3, "bpp": 3.0, "psnr": math.inf, "status": "ok", "error": "", **extra})


def test_rows_are_replaced_by_key_and_exported_in_a_stable_order(tmp_path):
    run_dir = RunDir(tmp_path)
    with run_dir.open_store() as store:
        store.write([_row("jpeg", 50, "b.png"), _row("jpeg", 5, "a.png")])
        store.write([_row("jpeg", 50, "b.png", bpp=1.5)])
        assert run_dir.write_results(store, PSNR.columns) == 2
        frame = results_table(list(store.rows()), PSNR.columns)
    assert list(frame.columns[: len(BASE_COLUMNS) + 1]) == [*BASE_COLUMNS, "psnr"]
    assert list(frame["setting"]) == [5, 50] and list(frame["bpp"]) == [3.0, 1.5]
    from_csv = pd.read_csv(tmp_path / "results.csv")
    assert from_csv["psnr"].tolist() == [math.inf, math.inf]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), frame)


def test_text_settings_make_setting_a_text_column(tmp_path):
    run_dir = RunDir(tmp_path)
    with run_dir.open_store() as store:
        store.write([_row("jpeg", 50, "a.png"), _row("hific", "lo", "a.png", bpp_estimate=0.1)])
        run_dir.write_results(store, PSNR.columns)
    frame = pd.read_parquet(tmp_path / "results.parquet")
    assert frame["setting"].tolist() == ["lo", "50"]
    assert frame["bpp_estimate"].tolist()[0] == 0.1 and math.isnan(frame["bpp_estimate"].tolist()[1])
    assert pd.read_parquet(tmp_path / "results.parquet")["setting"].tolist() == ["lo", "50"]


def _varied_rows():
    """Rows whose columns differ in type from row to row, as a real run's do: an integer column
    that some rows lack (error rows), integers and floats in one column, text with None, extras
    only some rows carry, text and numeric settings of several codecs."""
    rows = []
    for index in range(7):
        rows.append(_row("jpeg", [90, 5, 50][index % 3], f"img{6 - index}.png", n_encodes=index if index % 2 else None))
    rows.append(Measured({"dataset": "d", "image": "img0.png", "codec": "jpeg", "point": "70", "setting": 70, "bpp": None,
                          "status": "error", "error": "broken"}))
    rows += [_row("hific", setting, "img1.png", bpp=1, bpp_estimate=0.25 if setting == "hi" else 2) for setting in ("lo", "hi", "mi")]
    rows.append(_row("avif", 30, "img2.png", host="node-1", suspect=""))
    return rows


def test_the_streamed_export_equals_the_whole_table_written_at_once(tmp_path):
    run_dir = RunDir(tmp_path)
    with run_dir.open_store() as store:
        store.write(_varied_rows())
        whole = results_table(list(store.rows()), PSNR.columns)
        # Chunks of 2 rows: every chunk holds a different mix of types than the whole table.
        assert run_dir.write_results(store, PSNR.columns, chunk_rows=2) == 12
    assert (tmp_path / "results.csv").read_text() == whole.to_csv(index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), whole)
    assert whole["setting"].tolist()[:3] == ["30", "hi", "lo"] and whole["codec"].tolist()[-1] == "jpeg"
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]


def test_an_export_that_fails_leaves_the_previous_tables_whole(tmp_path):
    run_dir = RunDir(tmp_path)
    with run_dir.open_store() as store:
        store.write([_row("jpeg", 50, "a.png", note="text")])
        run_dir.write_results(store, PSNR.columns)
        before = (tmp_path / "results.csv").read_bytes(), (tmp_path / "results.parquet").read_bytes()
        # A column holding text in one row and a number in another cannot be a Parquet column.
        store.write([_row("jpeg", 90, "a.png", note=3)])
        with pytest.raises(RunDirError, match="column[(]s[)] note hold text in some rows and other values"):
            run_dir.write_results(store, PSNR.columns)
    assert ((tmp_path / "results.csv").read_bytes(), (tmp_path / "results.parquet").read_bytes()) == before
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]


def test_a_store_written_before_operating_points_is_upgraded_when_opened(tmp_path):
    shutil.copy(FIXTURE_RUN / "results.sqlite", tmp_path / "results.sqlite")
    with ResultStore(tmp_path / "results.sqlite") as store:
        rows = {(row["codec"], row["image"], row["point"]): row for row in store.rows()}
        keys = store.finished_keys()
    # The target row's point is its target; its setting the quality rate control chose.
    target = rows[("jpeg", "kodim03.png", "target_bpp=0.5")]
    assert target["setting"] == 15 and target["target_bpp"] == 0.5 and "quality" not in target
    assert rows[("webp", "kodim07.png", "70")]["setting"] == 70
    assert ("images", "kodim03.png", "jpeg", "target_bpp=0.5") in keys and len(keys) == 18  # 3 images x (2 jpeg + 2 webp settings + 2 targets)
    with sqlite3.connect(tmp_path / "results.sqlite") as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(results)")]
    assert columns[:4] == ["dataset", "image", "codec", "point"]
