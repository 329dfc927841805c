"""Memory admission: jobs start only while their estimated peak memory fits, and a job that cannot
fit alone, or whose worker the kernel kills, is an error row while the run goes on."""
from __future__ import annotations

import os
import signal
import time

import pytest

from bench.codecs.jpeg import JPEG
from bench.core import execution
from bench.core.memory import GIB, parse_size, task_bytes
from bench.core.plan import ImageSource, RunPlan
from bench.core.rundir import results_table
from bench.core.store import ResultStore
from bench.errors import BenchError

KODAK_PIXELS = 768 * 512


class TimedJPEG(JPEG):
    """JPEG that takes half a second and records when it ran; its estimate is 1000 bytes per pixel (fake)."""

    name = "timed"
    peak_bytes_per_pixel = 1000.0

    def encode(self, image, setting):
        self.started = time.monotonic()
        time.sleep(0.5)
        return super().encode(image, setting)

    def analyse(self, image, setting, encoded):
        return {"started": self.started, "ended": time.monotonic()}


class Huge(JPEG):
    name = "huge"
    peak_bytes_per_pixel = 1e6  # 393 GB for a Kodak image: fits no machine


class KilledForMemory(JPEG):
    """Its worker receives what the kernel's OOM killer sends."""

    name = "oom"

    def encode(self, image, setting):
        os.kill(os.getpid(), signal.SIGKILL)


def _plan(kodak_dir, codecs, count=4):
    images = [ImageSource("kodak", f"kodim0{i}.png", kodak_dir / f"kodim0{i}.png") for i in range(1, count + 1)]
    return RunPlan(images=images, codecs=codecs, metrics=[], settings={name: [50] for name in codecs})


def _run(plan, backend, tmp_path):
    with ResultStore(tmp_path / "results.sqlite") as store:
        execution.execute(plan, store, backend=backend)
        return results_table(list(store.rows()))


def _overlapping(table) -> bool:
    spans = sorted(zip(table["started"], table["ended"]))
    return any(later_start < earlier_end for (_, earlier_end), (later_start, _) in zip(spans, spans[1:]))


def test_the_estimate_is_pixels_times_the_codec_s_and_metrics_bytes_per_pixel(kodak_dir):
    from bench.metrics.ms_ssim import MSSSIM
    from bench.metrics.psnr import PSNR

    plan = _plan(kodak_dir, {"timed": TimedJPEG()})
    plan.metrics = [PSNR(), MSSSIM()]
    assert task_bytes(plan.jobs()[:1], plan) == int(KODAK_PIXELS * (1000 + PSNR.peak_bytes_per_pixel + 207 + 64))
    assert parse_size("16G") == 16 * GIB and parse_size("512M") == 512 * 2**20 and parse_size("2.5g") == int(2.5 * GIB)
    with pytest.raises(BenchError, match="expected a size such as 16G"):
        parse_size("lots")


@pytest.mark.parametrize("room_for, overlap", [(1.5, False), (4.5, True)])
def test_jobs_in_flight_stay_within_the_memory_allowed(room_for, overlap, kodak_dir, tmp_path):
    plan = _plan(kodak_dir, {"timed": TimedJPEG()})
    budget = int(room_for * KODAK_PIXELS * TimedJPEG.peak_bytes_per_pixel)
    table = _run(plan, execution.LocalPool(2, max_memory=budget), tmp_path)
    assert len(table) == 4 and (table["status"] == "ok").all()
    assert _overlapping(table) == overlap


def test_a_job_that_cannot_fit_alone_is_an_error_row_before_it_starts(kodak_dir, tmp_path):
    plan = _plan(kodak_dir, {"huge": Huge(), "jpeg": JPEG()}, count=2)
    table = _run(plan, execution.local_backend(1, max_memory=8 * GIB), tmp_path)
    huge = table[table["codec"] == "huge"]
    assert len(huge) == 2 and (huge["status"] == "error").all() and huge["bytes"].isna().all()
    assert huge["error"].iloc[0].startswith("needs about 366.2 GiB by the estimate") and "more than the 8.0 GiB allowed" in huge["error"].iloc[0]
    assert (table[table["codec"] == "jpeg"]["status"] == "ok").all()


def test_a_worker_killed_for_memory_is_an_error_row_and_the_run_goes_on(kodak_dir, tmp_path):
    plan = _plan(kodak_dir, {"oom": KilledForMemory(), "jpeg": JPEG()}, count=2)
    table = _run(plan, execution.LocalPool(2), tmp_path)
    killed = table[table["codec"] == "oom"]
    assert (killed["status"] == "error").all() and killed["error"].str.contains("the kernel killed it for memory").all()
    assert (table[table["codec"] == "jpeg"]["status"] == "ok").all() and len(table) == 4
