"""The runner: resumable after a real SIGKILL, and one bad image or codec loses nothing."""
from __future__ import annotations

import faulthandler
import os
import signal
import sqlite3
import subprocess
import time
import zlib
import struct

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image

from bench.core.rundir import results_table
from cli_helpers import bench_command, bench_env, run_bench

RUN_ARGS = ["run", "--codecs", "jpeg,webp", "--dataset", "kodak", "--limit", "3", "--jobs", "2"]


def _table(run_dir) -> pd.DataFrame:
    return pd.read_csv(run_dir / "results.csv").drop(columns=["encode_seconds", "decode_seconds"])


def _rows_in(database) -> int:
    try:
        with sqlite3.connect(database, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_table(tmp_path):
    uninterrupted, interrupted = tmp_path / "uninterrupted", tmp_path / "interrupted"
    assert run_bench(*RUN_ARGS, "--out", str(uninterrupted)).returncode == 0

    process = subprocess.Popen(
        bench_command(*RUN_ARGS, "--out", str(interrupted)), env=bench_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while _rows_in(interrupted / "results.sqlite") < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    rows_at_kill = _rows_in(interrupted / "results.sqlite")
    assert 8 <= rows_at_kill < 48, "the kill must land part-way through the run"

    resumed = run_bench(*RUN_ARGS, "--out", str(interrupted))
    assert resumed.returncode == 0, resumed.stderr
    assert f"{rows_at_kill} already done, {48 - rows_at_kill} to run" in resumed.stderr
    table = _table(interrupted)
    assert len(table) == 48
    assert not table.duplicated(["dataset", "image", "codec", "point"]).any()
    pd.testing.assert_frame_equal(table, _table(uninterrupted))

    again = run_bench(*RUN_ARGS, "--out", str(interrupted))
    assert "48 already done, 0 to run" in again.stderr


def _png16(path, height=200, width=200) -> None:
    """A 16-bit-per-channel RGB PNG, written by hand (Pillow cannot write one)."""
    pixels = np.random.default_rng(0).integers(0, 65535, (height, width, 3)).astype(">u2")
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_bad_images_become_error_rows_and_good_ones_finish(tmp_path, kodak_dir):
    folder = tmp_path / "mixed"
    folder.mkdir()
    kodim = Image.open(kodak_dir / "kodim05.png").crop((0, 0, 256, 192))
    kodim.save(folder / "good.png")
    kodim.convert("L").save(folder / "gray.png")
    kodim.convert("RGBA").save(folder / "rgba_opaque.png")
    with_alpha = kodim.convert("RGBA")
    with_alpha.putalpha(128)
    with_alpha.save(folder / "rgba_transparent.png")
    _png16(folder / "deep.png")
    tifffile.imwrite(folder / "deep-tiff.tif", np.full((64, 64, 3), 40000, np.uint16))
    (folder / "truncated.png").write_bytes((folder / "good.png").read_bytes()[:2000])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("this is not an image")

    result = run_bench("run", "--codecs", "jpeg", "--settings", "jpeg=50", "--images", str(folder), "--out", str(tmp_path / "run"), "--jobs", "2")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "run" / "results.csv").set_index("image")
    assert len(table) == 9
    for converted in ("good.png", "gray.png", "rgba_opaque.png"):
        assert table.loc[converted, "status"] == "ok"
        assert (table.loc[converted, "width"], table.loc[converted, "height"]) == (256, 192)
    expected_reasons = {
        "rgba_transparent.png": "has transparency",
        "deep.png": "16-bit",
        "deep-tiff.tif": "16-bit",
        "truncated.png": "unreadable image",
        "empty.png": "empty file",
        "notes.png": "not an image file",
    }
    for image, reason in expected_reasons.items():
        assert table.loc[image, "status"] == "error"
        assert reason in table.loc[image, "error"]
        assert "\n" not in table.loc[image, "error"]
        assert pd.isna(table.loc[image, "bpp"])


def test_a_codec_that_raises_is_recorded_and_the_run_goes_on(tmp_path, kodak_dir):
    from bench.codecs.jpeg import JPEG
    from bench.core.execution import execute
    from bench.core.plan import ImageSource, RunPlan
    from bench.core.store import ResultStore

    class Broken(JPEG):
        name = "broken"

        def encode(self, image, setting):
            if setting == 20:
                raise RuntimeError("encoder exploded\nsecond line")
            return super().encode(image, setting)

    image = ImageSource("kodak", "kodim02.png", kodak_dir / "kodim02.png")
    plan = RunPlan(images=[image], codecs={"broken": Broken()}, metrics=[], settings={"broken": [10, 20, 30]})
    with ResultStore(tmp_path / "results.sqlite") as store:
        assert execute(plan, store) == 3
        table = results_table(list(store.rows())).set_index("setting")
    assert table.loc[20, "status"] == "error" and table.loc[20, "error"] == "RuntimeError: encoder exploded second line"
    assert list(table.loc[[10, 30], "status"]) == ["ok", "ok"]


def test_asking_for_a_new_metric_reruns_only_rows_without_it(tmp_path, kodak_dir):
    from bench.codecs.jpeg import JPEG
    from bench.metrics.ms_ssim import MSSSIM
    from bench.metrics.psnr import PSNR
    from bench.core.execution import execute
    from bench.core.plan import ImageSource, RunPlan, pending_jobs
    from bench.core.store import ResultStore

    image = ImageSource("kodak", "kodim07.png", kodak_dir / "kodim07.png")
    psnr_only = RunPlan(images=[image], codecs={"jpeg": JPEG()}, metrics=[PSNR()], settings={"jpeg": [10, 50]})
    both = RunPlan(images=[image], codecs={"jpeg": JPEG()}, metrics=[PSNR(), MSSSIM()], settings={"jpeg": [10, 50, 90]})
    with ResultStore(tmp_path / "results.sqlite") as store:
        assert execute(psnr_only, store) == 2
        assert pending_jobs(psnr_only, store) == []
        assert [job.point.setting for job in pending_jobs(both, store)] == [10, 50, 90]
        assert execute(both, store) == 3
        assert pending_jobs(both, store) == [] and pending_jobs(psnr_only, store) == []
        table = results_table(list(store.rows()))
    assert table["ms_ssim"].between(0.8, 1.0).all() and len(table) == 3


class AbortOnPortrait:
    """Mixin for a codec that kills its worker process on portrait images (a native crash)."""

    def encode(self, image, setting):
        if image.shape[0] > image.shape[1]:
            # pytest's faulthandler would print every thread's stack first: the crash is meant.
            faulthandler.disable()
            os.abort()
        return super().encode(image, setting)


def test_a_crashing_codec_is_blamed_only_for_its_own_jobs(tmp_path, kodak_dir):
    from bench.codecs.jpeg import JPEG
    from bench.core.execution import LocalPool, execute
    from bench.core.plan import ImageSource, RunPlan
    from bench.core.store import ResultStore

    class Crashy(AbortOnPortrait, JPEG):
        name = "crashy"

    images = [ImageSource("kodak", name, kodak_dir / name) for name in ("kodim03.png", "kodim04.png", "kodim05.png")]
    plan = RunPlan(images=images, codecs={"crashy": Crashy()}, metrics=[], settings={"crashy": [10, 20, 30, 40, 50]})
    with ResultStore(tmp_path / "results.sqlite") as store:
        execute(plan, store, backend=LocalPool(2))
        table = results_table(list(store.rows()))
    assert len(table) == 15
    status = table.groupby("image")["status"].agg(set).to_dict()
    assert status == {"kodim03.png": {"ok"}, "kodim04.png": {"error"}, "kodim05.png": {"ok"}}  # kodim04 is portrait
    assert table[table["image"] == "kodim04.png"]["error"].str.startswith("worker process died").all()


def test_a_changed_metric_signature_or_a_missing_reconstruction_means_work(tmp_path, kodak_dir):
    from bench.codecs.jpeg import JPEG
    from bench.metrics.psnr import PSNR
    from bench.core.rundir import RunDir
    from bench.core.execution import execute
    from bench.core.plan import ImageSource, RunPlan, pending_jobs
    from bench.core.store import ResultStore

    class VersionedPSNR(PSNR):
        def __init__(self, version):
            super().__init__()
            self.version = version

        def signature(self):
            return f"psnr-{self.version}"

    image = ImageSource("kodak", "kodim08.png", kodak_dir / "kodim08.png")
    plan = RunPlan(images=[image], codecs={"jpeg": JPEG()}, metrics=[VersionedPSNR(1)], settings={"jpeg": [30]})
    with ResultStore(tmp_path / "results.sqlite") as store:
        execute(plan, store)
        assert pending_jobs(plan, store) == []
        plan.metrics = [VersionedPSNR(2)]
        assert len(pending_jobs(plan, store)) == 1
        execute(plan, store)
        assert pending_jobs(plan, store) == []
        plan.save_reconstructions = True
        assert len(pending_jobs(plan, store, RunDir(tmp_path))) == 1
        execute(plan, store, RunDir(tmp_path))
        assert pending_jobs(plan, store, RunDir(tmp_path)) == []
        table = results_table(list(store.rows()))
    assert "_signatures" not in table.columns
    assert table["recon_path"].tolist() == ["recon/kodak/jpeg/30/kodim08.png"]
    assert (tmp_path / "recon" / "kodak" / "jpeg" / "30" / "kodim08.png").is_file()


def test_loading_and_analysis_stay_out_of_the_timed_encode_and_decode(kodak_dir):
    from bench.codecs.jpeg import JPEG
    from bench.core.points import OperatingPoint
    from bench.core.measure import measure_job
    from bench.core.plan import ImageSource, Job, RunPlan

    class SlowToLoad(JPEG):
        """A codec whose first use loads something for a second, and whose analysis takes another."""

        name = "slow"
        loaded = False

        def prepare(self, setting):
            if not self.loaded:
                time.sleep(3.0)
                self.loaded = True

        def analyse(self, image, setting, encoded):
            time.sleep(3.0)
            return {"analysed": 1.0}

    image = ImageSource("kodak", "kodim08.png", kodak_dir / "kodim08.png")
    started = time.perf_counter()
    codec = SlowToLoad()
    row = measure_job(Job(image, "slow", OperatingPoint(50)), codec, [], RunPlan(images=[image], codecs={"slow": codec}, metrics=[])).row
    assert time.perf_counter() - started > 6.0 and row["analysed"] == 1.0
    assert row["encode_seconds"] < 1.5 and row["decode_seconds"] < 1.5
