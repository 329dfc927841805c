"""The runner: image x codec x setting jobs, in worker processes, into a resumable store.

Data flows one way: image file -> codec.encode -> bytes -> codec.decode -> image ->
metrics -> one row. The runner knows no codec and no metric by name.

Work is handed to workers in *tasks*: one image with one codec and several settings, so
the reference image is decoded once per task and kept in a small per-worker cache. Each
task's rows are committed in one transaction as soon as it returns. Every job is
single-threaded, so ``--jobs N`` uses N cores.
"""
from __future__ import annotations

import concurrent.futures as futures
import functools
import multiprocessing
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from bench.codecs.base import Codec, Setting
from bench.imageio import ImageReadError, read_image
from bench.metrics.base import DistributionMetric, Metric
from bench.store import FEATURES_FIELD, SIGNATURES_FIELD, ResultStore

#: Reference images kept per worker; tasks arrive grouped by image.
IMAGE_CACHE_SIZE = 4


@dataclass(frozen=True)
class ImageSource:
    dataset: str
    name: str
    path: Path


@dataclass(frozen=True)
class Job:
    """One encode/decode/measure of one image with one codec at one setting.

    Exactly one of ``setting`` (the codec's own value) and ``target_bpp`` (rate control
    picks the setting per image) is used.
    """

    image: ImageSource
    codec: str
    setting: Setting = None
    target_bpp: float | None = None

    @property
    def setting_label(self) -> str:
        return f"target_bpp={self.target_bpp:g}" if self.target_bpp is not None else str(self.setting)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.image.dataset, self.image.name, self.codec, self.setting_label)


@dataclass
class RunPlan:
    images: Sequence[ImageSource]
    codecs: dict[str, Codec]
    metrics: Sequence[Metric]
    settings: dict[str, list[Setting]] = field(default_factory=dict)
    target_bpps: Sequence[float] = ()
    recon_dir: Path | None = None

    def jobs(self) -> list[Job]:
        """All jobs, grouped by image so that consecutive jobs share the reference."""
        jobs = []
        for image in self.images:
            for name, codec in self.codecs.items():
                if self.target_bpps:
                    jobs.extend(Job(image, name, target_bpp=float(target)) for target in self.target_bpps)
                else:
                    jobs.extend(Job(image, name, setting) for setting in self.settings.get(name, codec.settings))
        return jobs


# --- worker side ---------------------------------------------------------------------

_worker_state: dict[str, Any] = {}


def _init_worker(codecs: dict[str, Codec], metrics: Sequence[Metric], recon_dir: Path | None, threads: int) -> None:
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    _worker_state.update(codecs=codecs, metrics=metrics, recon_dir=recon_dir)


@functools.lru_cache(maxsize=IMAGE_CACHE_SIZE)
def _reference(path: Path) -> np.ndarray:
    image = read_image(path)
    image.setflags(write=False)
    return image


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _base_row(job: Job, codec: Codec) -> dict[str, Any]:
    return {
        "dataset": job.image.dataset,
        "image": job.image.name,
        "codec": job.codec,
        "setting": job.setting_label,
        "codec_version": codec.version(),
        "quality": job.setting,
        "status": "ok",
        "error": "",
        **({"target_bpp": job.target_bpp} if job.target_bpp is not None else {}),
    }


def _encode(job: Job, codec: Codec, reference: np.ndarray) -> tuple[Any, Any, int]:
    if job.target_bpp is None:
        return job.setting, codec.encode_with_info(reference, job.setting), 1
    from bench.ratecontrol import encode_at_target

    return encode_at_target(codec, reference, job.target_bpp)


def run_job(job: Job, codec: Codec, metrics: Sequence[Metric], recon_dir: Path | None = None) -> dict[str, Any]:
    """Encode, decode and measure one job; any failure becomes a row with status=error."""
    row = _base_row(job, codec)
    try:
        reference = _reference(job.image.path)
        height, width = reference.shape[:2]
        row.update(width=width, height=height)
        started = time.perf_counter()
        setting, encoded, n_encodes = _encode(job, codec, reference)
        encode_seconds = time.perf_counter() - started
        bitstream = encoded.bitstream
        started = time.perf_counter()
        reconstruction = np.asarray(codec.decode(bitstream))
        decode_seconds = time.perf_counter() - started
        if reconstruction.shape != reference.shape or reconstruction.dtype != np.uint8:
            raise ValueError(
                f"decoder returned {reconstruction.dtype} {reconstruction.shape}, expected uint8 {reference.shape}"
            )
        row.update(
            quality=setting,
            bytes=len(bitstream),
            bpp=8.0 * len(bitstream) / (height * width),
            encode_seconds=encode_seconds / n_encodes,
            decode_seconds=decode_seconds,
            **encoded.info,
        )
        if job.target_bpp is not None:
            row["n_encodes"] = n_encodes
        features: dict[str, np.ndarray] = {}
        for metric in metrics:
            if isinstance(metric, DistributionMetric):
                if metric.feature_key() not in features:
                    features[metric.feature_key()] = metric.features(reconstruction)
            else:
                row.update(metric.measure(reference, reconstruction))
        if features:
            row[FEATURES_FIELD] = features
        row[SIGNATURES_FIELD] = {metric.name: metric.signature() for metric in metrics}
        if recon_dir is not None:
            save_reconstruction(reconstruction, recon_path(recon_dir, job.image.dataset, job.codec, setting, job.image.name))
    except ImageReadError as exc:
        row.update(status="error", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one failing job must not stop the run
        row.update(status="error", error=_one_line(exc))
    return row


def recon_path(recon_dir: Path, dataset: str, codec: str, setting: Setting, image_name: str) -> Path:
    """``recon/<dataset>/<codec>/<setting>/<image name>.png`` (``.png`` added unless already there)."""
    file_name = image_name if image_name.lower().endswith(".png") else image_name + ".png"
    return Path(recon_dir) / dataset / codec / str(setting) / file_name


def save_reconstruction(image: np.ndarray, path: Path) -> Path:
    """Write a reconstruction losslessly as PNG."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
    return path


def run_task(jobs: Sequence[Job]) -> list[dict[str, Any]]:
    """Worker entry point: the jobs of one task, with the worker's codecs and metrics."""
    state = _worker_state
    return [run_job(job, state["codecs"][job.codec], state["metrics"], state["recon_dir"]) for job in jobs]


# --- main side -----------------------------------------------------------------------


def make_tasks(jobs: Sequence[Job], settings_per_task: int = 4) -> list[list[Job]]:
    """Group consecutive jobs of the same image and codec, a few settings per task."""
    tasks: list[list[Job]] = []
    for job in jobs:
        last = tasks[-1] if tasks else None
        if last and len(last) < settings_per_task and (last[0].image, last[0].codec) == (job.image, job.codec):
            last.append(job)
        else:
            tasks.append([job])
    return tasks


def _crash_rows(task: Sequence[Job], codecs: dict[str, Codec], exc: BaseException) -> list[dict[str, Any]]:
    rows = []
    for job in task:
        row = _base_row(job, codecs[job.codec])
        row.update(status="error", error=f"worker process died ({_one_line(exc)}); the codec may have crashed")
        rows.append(row)
    return rows


def pending_jobs(plan: RunPlan, store: ResultStore, retry_errors: bool = False) -> list[Job]:
    """The jobs of ``plan`` that still need work.

    A job is done when its row exists (error rows too, unless ``retry_errors``), and, for
    an ok row, when it holds every requested metric under the metric's current
    :meth:`~bench.metrics.base.Metric.signature`, the features of every requested
    distribution metric, and its reconstruction file when ``plan.recon_dir`` is set.
    """
    done = store.finished_keys(include_errors=not retry_errors)
    feature_keys = {metric.feature_key() for metric in plan.metrics if isinstance(metric, DistributionMetric)}
    done -= store.keys_missing_features(feature_keys)
    done -= {key for key, row in store.ok_rows() if _needs_work(row, plan)}
    return [job for job in plan.jobs() if job.key not in done]


def _needs_work(row: dict[str, Any], plan: RunPlan) -> bool:
    signatures = row.get(SIGNATURES_FIELD, {})
    for metric in plan.metrics:
        if signatures.get(metric.name) != metric.signature():
            return True
        if not isinstance(metric, DistributionMetric) and any(column not in row for column in metric.column_names()):
            return True
    if plan.recon_dir is not None:
        path = recon_path(plan.recon_dir, row["dataset"], row["codec"], row["quality"], row["image"])
        if not path.is_file():
            return True
    return False


def execute(
    plan: RunPlan,
    store: ResultStore,
    jobs: int = 1,
    retry_errors: bool = False,
    on_rows: Callable[[list[dict[str, Any]]], None] | None = None,
) -> int:
    """Run every job of ``plan`` that ``store`` does not hold yet; return how many ran.

    ``jobs`` is the number of worker processes; 1 runs in this process. Rows are written
    task by task as they finish; ``on_rows`` is called after each write (progress).
    """
    pending = pending_jobs(plan, store, retry_errors)
    tasks = make_tasks(pending)

    def finish(rows: list[dict[str, Any]]) -> None:
        store.write(rows)
        if on_rows:
            on_rows(rows)

    if jobs <= 1 or len(tasks) <= 1:
        _init_worker(plan.codecs, plan.metrics, plan.recon_dir, threads=THREADS_PER_JOB)
        for task in tasks:
            finish(run_task(task))
        return len(pending)

    crashes: dict[tuple[str, str, str, str], int] = {}
    remaining = tasks
    while remaining:
        suspects, remaining = _execute_in_pool(plan, remaining, jobs, finish, crashes)
        for task in suspects:
            _run_isolated(plan, task, finish, crashes)
    return len(pending)


#: Torch threads per job: one, so that ``--jobs N`` uses N cores and jobs never compete.
THREADS_PER_JOB = 1

#: A task that killed its worker this many times, alone in its pool, is recorded as crashed.
MAX_CRASHES = 2


def _start_method() -> str:
    """``fork`` where it is safe (Linux, CUDA not initialised here): workers start in
    milliseconds instead of re-importing torch; ``spawn`` otherwise."""
    torch = sys.modules.get("torch")
    if sys.platform == "linux" and not (torch is not None and torch.cuda.is_initialized()):
        return "fork"
    return "spawn"


def _run_isolated(plan: RunPlan, task: list[Job], finish: Callable[[list[dict[str, Any]]], None], crashes: dict) -> None:
    """Run one task alone in a one-worker pool, so that a crash is surely its own."""
    left = [task]
    while left:
        left, _ = _execute_in_pool(plan, left, 1, finish, crashes)


def _execute_in_pool(
    plan: RunPlan,
    tasks: list[list[Job]],
    jobs: int,
    finish: Callable[[list[dict[str, Any]]], None],
    crashes: dict[tuple[str, str, str, str], int],
) -> tuple[list[list[Job]], list[list[Job]]]:
    """Run tasks in a process pool until they are done or a worker dies.

    Returns ``(suspects, not_started)``. A dead worker breaks the whole pool and fails
    every task in flight, not only the one that crashed. With one task in flight the crash
    is that task's: it counts towards :data:`MAX_CRASHES`, after which its jobs are written
    as error rows, and before which it is returned to run again. With several in flight,
    all of them are returned as suspects, for the caller to run one at a time.
    """
    queue = iter(tasks)
    pool = futures.ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context(_start_method()),
        initializer=_init_worker,
        initargs=(plan.codecs, plan.metrics, plan.recon_dir, THREADS_PER_JOB),
    )
    # Submit in order, a bounded window ahead, so the tasks of one image stay together.
    in_flight: dict[futures.Future, list[Job]] = {}
    failed: list[list[Job]] = []
    error: BaseException | None = None

    def submit_next() -> None:
        task = next(queue, None)
        if task is not None:
            in_flight[pool.submit(run_task, task)] = task

    try:
        for _ in range(2 * jobs):
            submit_next()
        while in_flight:
            completed, _ = futures.wait(in_flight, return_when=futures.FIRST_COMPLETED)
            for future in completed:
                task = in_flight.pop(future)
                try:
                    rows = future.result()
                except futures.process.BrokenProcessPool as exc:
                    failed.append(task)
                    error = exc
                    continue
                finish(rows)
                if not failed:
                    submit_next()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    not_started = list(queue)
    if len(failed) != 1:
        return failed, not_started
    task = failed[0]
    crashes[task[0].key] = crashes.get(task[0].key, 0) + 1
    if crashes[task[0].key] >= MAX_CRASHES:
        assert error is not None
        finish(_crash_rows(task, plan.codecs, error))
        return [], not_started
    return [task], not_started
