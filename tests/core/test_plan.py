"""Which jobs of a plan still need work, read from the store a chunk of images at a time."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.codecs.jpeg import JPEG
from bench.core import plan as plan_module
from bench.core.plan import ImageSource, RunPlan, iter_pending_jobs, make_tasks, pending_jobs
from bench.core.rows import Measured
from bench.core.store import ResultStore
from bench.metrics.psnr import PSNR


def _plan(images: int, shard: tuple[int, int] | None = None) -> RunPlan:
    sources = [ImageSource("d", f"img{index}.png", Path(f"img{index}.png")) for index in range(images)]
    return RunPlan(images=sources, codecs={"jpeg": JPEG()}, metrics=[PSNR()], settings={"jpeg": [10, 50]}, shard=shard)


def _stored(image: str, setting: int, status: str = "ok", signature: str | None = None) -> Measured:
    row = {"dataset": "d", "image": image, "codec": "jpeg", "point": str(setting), "setting": setting, "status": status}
    if status == "ok":
        row["psnr"] = 30.0
    return Measured(row, signatures={"psnr": signature or PSNR().signature()} if status == "ok" else {})


@pytest.mark.parametrize("images_per_chunk", [1, 2, 500])
def test_pending_jobs_are_those_without_a_finished_row_whatever_the_chunk(tmp_path, monkeypatch, images_per_chunk):
    monkeypatch.setattr(plan_module, "IMAGES_PER_CHUNK", images_per_chunk)
    plan = _plan(5)
    with ResultStore(tmp_path / "results.sqlite") as store:
        store.write([_stored("img0.png", 10), _stored("img0.png", 50), _stored("img2.png", 50, status="error"),
                     _stored("img3.png", 10, signature="psnr with other settings"), _stored("img4.png", 50)])
        pending = [(job.image.name, job.point.label) for job in pending_jobs(plan, store)]
        retried = [(job.image.name, job.point.label) for job in iter_pending_jobs(plan, store, retry_errors=True)]
    assert pending == [("img1.png", "10"), ("img1.png", "50"), ("img2.png", "10"), ("img3.png", "10"),
                       ("img3.png", "50"), ("img4.png", "10")]
    assert retried == [*pending[:3], ("img2.png", "50"), *pending[3:]]


def test_job_count_and_tasks_are_made_without_listing_the_jobs():
    plan, sharded = _plan(7), _plan(7, shard=(1, 3))
    assert plan.job_count() == len(plan.jobs()) == 14
    assert sharded.job_count() == len(sharded.jobs()) and 0 < sharded.job_count() < 14
    tasks = make_tasks(iter(plan.jobs()), jobs_per_task=1)
    assert next(tasks)[0].image.name == "img0.png" and sum(1 for _ in tasks) == 13
