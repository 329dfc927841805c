"""The runner: image x codec x operating point jobs, in worker processes, into a resumable store.

Data flows one way: image file -> codec.encode -> bytes -> codec.decode -> image ->
metrics -> one row. The runner knows no codec and no metric by name.

Work is handed to workers in *tasks*: one image with one codec and several operating points,
so the reference image is decoded once per task and kept in a small per-worker cache. Each
task's rows are committed in one transaction as soon as it returns.

Only the encode and the decode are timed: the codec's :meth:`~bench.codecs.base.Codec.prepare`
(loading a model, warming it up) runs before, and its
:meth:`~bench.codecs.base.Codec.analyse` (extra columns) after.

Devices and processes: on the CPU each of ``jobs`` workers gets ``cores // jobs`` torch threads
(one job in this process uses every core). With CUDA, workers take the visible GPUs in turn
(one per GPU by default, see :func:`default_jobs`) and each holds its networks once; CUDA is
never initialised here, so workers can be forked. Workers die with this process, however it dies.
"""
from __future__ import annotations

import concurrent.futures as futures
import functools
import hashlib
import multiprocessing
import os
import socket
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from bench.codecs.base import Codec, Setting, bits_per_pixel
from bench.core.conformance import verify_row
from bench.errors import one_line
from bench.imageio import ImageReadError, read_image_with_notes, warning_notes
from bench.metrics.base import DistributionMetric, Metric
from bench.core.plausibility import image_checks
from bench.core.points import OperatingPoint
from bench.core.processes import die_with_parent, limit_threads
from bench.core.rundir import RunDir
from bench.core.store import FEATURES_FIELD, SIGNATURES_FIELD, ResultStore

#: Reference images kept per worker; tasks arrive grouped by image.
IMAGE_CACHE_SIZE = 4
#: The machine that measures a row (recorded in it: rows of a cluster run come from many).
HOST = socket.gethostname()


@dataclass(frozen=True)
class ImageSource:
    dataset: str
    name: str
    path: Path


@dataclass(frozen=True)
class Job:
    """One encode/decode/measure of one image with one codec at one operating point."""

    image: ImageSource
    codec: str
    point: OperatingPoint

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.image.dataset, self.image.name, self.codec, self.point.label)


@dataclass
class RunPlan:
    images: Sequence[ImageSource]
    codecs: dict[str, Codec]
    metrics: Sequence[Metric]
    settings: dict[str, list[Setting]] = field(default_factory=dict)
    target_bpps: Sequence[float] = ()
    #: Where reconstructions are saved (``--save-recon``); None keeps none.
    recon_dir: RunDir | None = None
    #: Where bitstreams are saved (``--save-bitstreams``); None keeps none.
    bitstream_dir: RunDir | None = None
    #: Decode each bitstream again with the codec's reference decoder (``--verify``, ``bench/core/conformance.py``).
    verify: bool = False
    #: Torch device of learned codecs and network metrics (resolved: ``cpu``, ``cuda``, ``cuda:1``).
    device: str = "cpu"
    #: ``(index, count)``: only the jobs of shard ``index`` of ``count`` (see :func:`shard_of`).
    shard: tuple[int, int] | None = None

    def points(self, codec: str) -> list[OperatingPoint]:
        """The operating points of ``codec`` in this plan: its settings, or the target bpps."""
        if self.target_bpps:
            return [OperatingPoint.at_target(target) for target in self.target_bpps]
        return [OperatingPoint(setting) for setting in self.settings.get(codec, self.codecs[codec].settings)]

    def jobs(self) -> list[Job]:
        """All jobs, grouped by image so that consecutive jobs share the reference."""
        points = {name: self.points(name) for name in self.codecs}
        jobs = []
        for image in self.images:
            for name in self.codecs:
                jobs.extend(Job(image, name, point) for point in points[name])
        if self.shard is not None:
            index, count = self.shard
            jobs = [job for job in jobs if shard_of(job.key, count) == index]
        return jobs


def shard_of(key: tuple[str, ...], count: int) -> int:
    """The shard (0 .. count - 1) of a job key: a stable hash, the same on every machine and run."""
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


# --- worker side ---------------------------------------------------------------------

_worker_state: dict[str, Any] = {}


def _init_worker(plan: RunPlan, threads: int | None, devices: Sequence[str], counter: Any, parent_pid: int | None) -> None:
    """Set a worker up: die with the parent, torch threads, its own device."""
    if parent_pid is not None:
        die_with_parent(parent_pid)
    if counter is not None:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
    else:
        index = 0
    device = devices[index % len(devices)]
    if threads is not None:
        limit_threads(threads)
    for part in [*plan.codecs.values(), *plan.metrics]:
        part.use_device(device)
    _worker_state.update(plan=plan, device=device)


@functools.lru_cache(maxsize=IMAGE_CACHE_SIZE)
def _reference(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """The reference image (read-only) and the notes of reading it."""
    image, notes = read_image_with_notes(path)
    image.setflags(write=False)
    return image, notes


def _base_row(job: Job, codec: Codec) -> dict[str, Any]:
    return {
        "dataset": job.image.dataset,
        "image": job.image.name,
        "codec": job.codec,
        "point": job.point.label,
        "setting": job.point.setting,
        "codec_version": codec.version(),
        "host": HOST,
        "status": "ok",
        "error": "",
        **({"target_bpp": job.point.target_bpp} if job.point.target_bpp is not None else {}),
    }


def _encode(job: Job, codec: Codec, reference: np.ndarray) -> tuple[Setting, Any, float, int]:
    """(setting used, encode result, seconds per encode, number of encodes)."""
    if job.point.target_bpp is None:
        codec.prepare(job.point.setting)
        started = time.perf_counter()
        encoded = codec.encode_with_context(reference, job.point.setting)
        return job.point.setting, encoded, time.perf_counter() - started, 1
    from bench.core.ratecontrol import encode_at_target

    started = time.perf_counter()
    setting, encoded, n_encodes = encode_at_target(codec, reference, job.point.target_bpp)
    return setting, encoded, (time.perf_counter() - started) / n_encodes, n_encodes


def run_job(
    job: Job, codec: Codec, metrics: Sequence[Metric], recon_dir: RunDir | None = None,
    bitstream_dir: RunDir | None = None, verify: bool = False,
) -> dict[str, Any]:
    """Encode, decode and measure one job; any failure becomes a row with status=error.

    Every row gets the plausibility columns of :func:`bench.core.plausibility.image_checks`; with
    ``verify``, the reference decoder's check (:func:`bench.core.conformance.verify_row`).
    Reconstructions and bitstreams are written under ``recon_dir`` and ``bitstream_dir``
    when given (anything with ``save_reconstruction`` / ``save_file``, e.g. a :class:`RunDir`).

    Warnings of the libraries used stay out of the terminal: those of reading the image go
    into ``input_note`` (of every row of that image), the others into ``warnings``.
    """
    row = _base_row(job, codec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _measure(job, codec, metrics, row, recon_dir, bitstream_dir, verify)
    notes = warning_notes(caught)
    if notes:
        row["warnings"] = "; ".join(notes)
    return row


def _measure(
    job: Job, codec: Codec, metrics: Sequence[Metric], row: dict[str, Any],
    recon_dir: RunDir | None, bitstream_dir: RunDir | None, verify: bool,
) -> None:
    try:
        reference, input_notes = _reference(job.image.path)
        if input_notes:
            row["input_note"] = "; ".join(input_notes)
        height, width = reference.shape[:2]
        row.update(width=width, height=height)
        setting, encoded, encode_seconds, n_encodes = _encode(job, codec, reference)
        codec.prepare(setting)
        started = time.perf_counter()
        reconstruction = np.asarray(codec.decode(encoded.bitstream))
        decode_seconds = time.perf_counter() - started
        if reconstruction.shape != reference.shape or reconstruction.dtype != np.uint8:
            raise ValueError(
                f"decoder returned {reconstruction.dtype} {reconstruction.shape}, expected uint8 {reference.shape}"
            )
        row.update(
            setting=setting,
            bytes=len(encoded.bitstream),
            bpp=bits_per_pixel(encoded.bitstream, reference),
            encode_seconds=encode_seconds,
            decode_seconds=decode_seconds,
            **codec.analyse(reference, setting, encoded),
        )
        if job.point.target_bpp is not None:
            row["n_encodes"] = n_encodes
        row.update(image_checks(reference, reconstruction, row["bpp"]))
        if verify:
            row.update(verify_row(codec, encoded.bitstream, reconstruction))
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
            relpath = RunDir.recon_relpath(job.image.dataset, job.codec, job.point.label, job.image.name)
            recon_dir.save_reconstruction(reconstruction, relpath)
            row["recon_path"] = relpath
        if bitstream_dir is not None:
            relpath = RunDir.bitstream_relpath(job.image.dataset, job.codec, job.point.label, job.image.name, codec.file_extension)
            bitstream_dir.save_file(encoded.bitstream, relpath)
            row["bitstream_path"] = relpath
    except ImageReadError as exc:
        row.update(status="error", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one failing job must not stop the run
        row.update(status="error", error=one_line(exc))


def run_task(jobs: Sequence[Job]) -> list[dict[str, Any]]:
    """Worker entry point: the jobs of one task, with the worker's codecs and metrics."""
    plan: RunPlan = _worker_state["plan"]
    return [
        run_job(job, plan.codecs[job.codec], plan.metrics, plan.recon_dir, plan.bitstream_dir, plan.verify)
        for job in jobs
    ]


# --- main side -----------------------------------------------------------------------


#: Jobs of one image and codec handed to a worker together (the reference is read once for them).
SETTINGS_PER_TASK = 4


def make_tasks(jobs: Sequence[Job], settings_per_task: int = SETTINGS_PER_TASK) -> list[list[Job]]:
    """Group consecutive jobs of the same image and codec, a few settings per task."""
    tasks: list[list[Job]] = []
    for job in jobs:
        last = tasks[-1] if tasks else None
        if last and len(last) < settings_per_task and (last[0].image, last[0].codec) == (job.image, job.codec):
            last.append(job)
        else:
            tasks.append([job])
    return tasks


def crash_rows(task: Sequence[Job], codecs: dict[str, Codec], reason: str) -> list[dict[str, Any]]:
    """Error rows for the jobs of a task that produced no rows of its own, with ``reason``."""
    rows = []
    for job in task:
        row = _base_row(job, codecs[job.codec])
        row.update(status="error", error=reason)
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
    if plan.verify and not isinstance(row.get("reference_check"), str):
        return True
    if plan.bitstream_dir is not None and not plan.bitstream_dir.has_bitstream(row):
        return True
    return plan.recon_dir is not None and not plan.recon_dir.has_reconstruction(row)


def execute(
    plan: RunPlan,
    store: ResultStore,
    jobs: int = 1,
    retry_errors: bool = False,
    on_rows: Callable[[list[dict[str, Any]]], None] | None = None,
    backend: Any = None,
) -> int:
    """Run every job of ``plan`` that ``store`` does not hold yet; return how many ran.

    ``jobs`` is the number of worker processes; 1 runs in this process. ``backend`` runs the
    tasks elsewhere instead (an object with ``run(plan, tasks, finish)`` and
    ``settings_per_task``, e.g. :class:`bench.core.cluster.DaskBackend`). Rows are written task by task as they finish, here;
    ``on_rows`` is called after each write (progress).
    """
    pending = pending_jobs(plan, store, retry_errors)
    tasks = make_tasks(pending, backend.settings_per_task if backend is not None else SETTINGS_PER_TASK)

    def finish(rows: list[dict[str, Any]]) -> None:
        store.write(rows)
        if on_rows:
            on_rows(rows)

    if backend is not None:
        backend.run(plan, tasks, finish)
        return len(pending)
    if jobs <= 1 or len(tasks) <= 1:
        # In this process, with every core for torch (its default).
        _init_worker(plan, None, worker_devices(plan.device), None, None)
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


def worker_devices(device: str) -> list[str]:
    """The device of each worker in turn: every visible GPU for ``cuda``, else ``device`` itself.

    Counting GPUs does not initialise CUDA in this process.
    """
    if device == "cuda":
        import torch

        count = torch.cuda.device_count()
        if count > 1:
            return [f"cuda:{index}" for index in range(count)]
    return [device]


def default_jobs(device: str) -> int:
    """Workers when ``--jobs`` is not given: one per GPU with CUDA (each holds its networks once),
    one per core on the CPU."""
    if device.startswith("cuda"):
        return len(worker_devices(device))
    return os.cpu_count() or 1


def threads_per_worker(jobs: int) -> int:
    """Torch threads of each of ``jobs`` workers, so that together they use every core once."""
    return max(1, (os.cpu_count() or 1) // jobs)


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
    context = multiprocessing.get_context(_start_method())
    pool = futures.ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(plan, threads_per_worker(jobs), worker_devices(plan.device), context.Value("i", 0), os.getpid()),
    )
    # Submit in order, a bounded window ahead, so the tasks of one image stay together.
    in_flight: dict[futures.Future, list[Job]] = {}
    failed: list[list[Job]] = []
    error: BaseException | None = None

    unsent: list[list[Job]] = []

    def submit_next() -> None:
        task = next(queue, None)
        if task is None:
            return
        try:
            in_flight[pool.submit(run_task, task)] = task
        except futures.process.BrokenProcessPool:  # a worker died since the last look
            unsent.append(task)

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
    not_started = unsent + list(queue)
    if len(failed) != 1:
        return failed, not_started
    task = failed[0]
    crashes[task[0].key] = crashes.get(task[0].key, 0) + 1
    if crashes[task[0].key] >= MAX_CRASHES:
        assert error is not None
        finish(crash_rows(task, plan.codecs, f"worker process died ({one_line(error)}); the codec may have crashed"))
        return [], not_started
    return [task], not_started
