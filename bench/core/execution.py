"""Running a plan's pending tasks: one loop, three backends.

:func:`execute` hands tasks (one image, one codec, a few operating points) to a backend a bounded
window ahead, in order (so that the tasks of one image stay together), writes each task's rows
into the store and its files into the run folder as soon as it returns (the only writer is this
process), and handles what can go wrong the same way for every backend:

* **a worker that dies** (a codec that crashes its process): the task that was alone in flight
  is run again, and after :data:`MAX_CRASHES` deaths its jobs become error rows; when several
  tasks were in flight, each is run again alone first, so that a crash is surely its own;
* **a task past its time limit** (``row_timeout`` seconds per row, where the backend supports
  it): error rows, and its worker is restarted.

Backends: :class:`InProcess` (``--jobs 1``: this process, every core for torch),
:class:`LocalPool` (worker processes on this machine) and ``cluster.DaskBackend`` (a Dask
cluster). Devices and processes: on the CPU each of ``jobs`` local workers gets
``cores // jobs`` torch threads; with CUDA, workers take the visible GPUs in turn (one per GPU by
default, see :func:`default_jobs`); CUDA is never initialised here, so workers can be forked.
Workers die with this process, however it dies.
"""
from __future__ import annotations

import collections
import concurrent.futures as futures
import multiprocessing
import os
import sys
import time
from typing import Any, Callable, Iterable, Sequence

from bench.core.measure import error_rows, measure_task
from bench.core.plan import JOBS_PER_TASK, Job, RunPlan, iter_pending_jobs, make_tasks
from bench.processes import die_with_parent, limit_threads
from bench.core.rows import Measured
from bench.errors import one_line

#: A task that killed its worker this many times, alone in flight, is recorded as crashed.
MAX_CRASHES = 2


class TaskCrashed(Exception):
    """The process running a task died. ``final``: the backend already retried it (its rows are errors now)."""

    def __init__(self, reason: str, final: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.final = reason, final


class Backend:
    """Where tasks run. The loop calls :meth:`start`, then :meth:`submit` / :meth:`wait` /
    :meth:`collect` (and :meth:`abandon` for overdue tasks, :meth:`reset` after a crash), then
    :meth:`stop`."""

    #: Jobs per task.
    jobs_per_task: int = JOBS_PER_TASK
    #: Seconds a task may run per row before it becomes error rows; None: no limit.
    row_timeout: float | None = None

    def start(self, plan: RunPlan) -> None:
        self.plan = plan

    def window(self) -> int:
        """Tasks kept in flight at once."""
        return 1

    def submit(self, task: list[Job]) -> Any:
        """Start ``task``; return a handle (raise :class:`TaskCrashed` if the workers are gone)."""
        raise NotImplementedError

    def wait(self, handles: list[Any], timeout: float | None) -> set[Any]:
        """The handles that finished, after at most ``timeout`` seconds (at least one when None)."""
        raise NotImplementedError

    def collect(self, handle: Any) -> list[Measured]:
        """The rows of a finished task; :class:`TaskCrashed` when its process died."""
        raise NotImplementedError

    def abandon(self, handle: Any) -> None:
        """Stop a task that ran past its limit (and restart the worker running it)."""

    def reset(self) -> None:
        """Start afresh after a worker died (the tasks in flight are forgotten)."""

    def stop(self) -> None:
        """Release the workers (tasks still in flight are cancelled)."""


class InProcess(Backend):
    """In this process, one task at a time, with every core for torch (its default)."""

    def start(self, plan: RunPlan) -> None:
        super().start(plan)
        self.results: dict[int, list[Measured]] = {}
        plan.use_device(worker_devices(plan.device)[0])

    def submit(self, task: list[Job]) -> Any:
        handle = len(self.results)
        self.results[handle] = measure_task(task, self.plan)
        return handle

    def wait(self, handles: list[Any], timeout: float | None) -> set[Any]:
        return set(handles)

    def collect(self, handle: Any) -> list[Measured]:
        return self.results.pop(handle)


# The local pool's workers hold the plan here (set once per worker by :func:`_init_worker`).
_worker_plan: dict[str, RunPlan] = {}


def _init_worker(plan: RunPlan, threads: int, devices: Sequence[str], counter: Any, parent_pid: int) -> None:
    """Set a worker up: die with the parent, torch threads, its own device."""
    die_with_parent(parent_pid)
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    limit_threads(threads)
    plan.use_device(devices[index % len(devices)])
    _worker_plan["plan"] = plan


def _pool_task(task: list[Job]) -> list[Measured]:
    return measure_task(task, _worker_plan["plan"])


class LocalPool(Backend):
    """``jobs`` worker processes on this machine (a process pool; a dead worker breaks the pool,
    and the next task starts a fresh one)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.pool: futures.ProcessPoolExecutor | None = None

    def window(self) -> int:
        return 2 * self.jobs

    def _pool(self) -> futures.ProcessPoolExecutor:
        if self.pool is None:
            context = multiprocessing.get_context(_start_method())
            self.pool = futures.ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=context, initializer=_init_worker,
                initargs=(self.plan, threads_per_worker(self.jobs), worker_devices(self.plan.device), context.Value("i", 0), os.getpid()),
            )
        return self.pool

    def submit(self, task: list[Job]) -> Any:
        try:
            return self._pool().submit(_pool_task, task)
        except futures.process.BrokenProcessPool as exc:  # a worker died since the last look
            raise TaskCrashed(f"worker process died ({one_line(exc)})") from None

    def wait(self, handles: list[Any], timeout: float | None) -> set[Any]:
        return futures.wait(handles, timeout=timeout, return_when=futures.FIRST_COMPLETED).done

    def collect(self, handle: Any) -> list[Measured]:
        try:
            return handle.result()
        except futures.process.BrokenProcessPool as exc:
            raise TaskCrashed(f"worker process died ({one_line(exc)}); the codec may have crashed") from None

    def reset(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def execute(
    plan: RunPlan,
    store: Any,
    run_dir: Any = None,
    backend: Backend | None = None,
    retry_errors: bool = False,
    on_rows: Callable[[list[dict[str, Any]]], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> int:
    """Run every job of ``plan`` that the run folder does not hold yet; return how many ran.

    ``store`` is the run folder's :class:`~bench.core.store.ResultStore`, ``run_dir`` its
    :class:`~bench.core.rundir.RunDir` (where files go). ``backend`` defaults to
    :class:`InProcess`. ``on_start(total, pending)`` is called once the jobs to run are known,
    ``on_rows`` with each task's rows after they are written.
    """
    backend = backend or InProcess()
    # One pass counts (the store is read a chunk of images at a time), the second feeds the loop:
    # neither holds the run's jobs in memory.
    pending = task_count = 0
    for task in make_tasks(iter_pending_jobs(plan, store, run_dir, retry_errors), backend.jobs_per_task):
        pending, task_count = pending + len(task), task_count + 1
    if on_start is not None:
        on_start(plan.job_count(), pending)
    tasks = make_tasks(iter_pending_jobs(plan, store, run_dir, retry_errors), backend.jobs_per_task)
    if isinstance(backend, LocalPool) and task_count <= 1:
        backend = InProcess()  # no pool to start for one task

    def finish(records: list[Measured]) -> None:
        for record in records:
            for relpath, data in record.files.items():
                run_dir.save_file(data, relpath)
        store.write(records)
        if on_rows:
            on_rows([record.row for record in records])

    run_tasks(plan, tasks, backend, finish)
    return pending


def run_tasks(plan: RunPlan, tasks: Iterable[list[Job]], backend: Backend, finish: Callable[[list[Measured]], None]) -> None:
    """The loop (see the module's docstring); ``tasks`` are taken as the window frees up."""
    queue = _Lookahead(tasks)
    #: Tasks to run alone: in flight when a worker died beside other tasks.
    suspects: collections.deque[list[Job]] = collections.deque()
    crashes: collections.Counter = collections.Counter()
    in_flight: dict[Any, tuple[list[Job], float]] = {}

    def crashed(task: list[Job], crash: TaskCrashed, alone: bool) -> None:
        if crash.final:
            finish(error_rows(task, plan.codecs, crash.reason))
            return
        backend.reset()
        if not alone:
            # A dead worker can take every task in flight with it: each runs again alone first.
            suspects.extend([task, *(other for other, _ in in_flight.values())])
            in_flight.clear()
        else:
            crashes[task[0].key] += 1
            if crashes[task[0].key] >= MAX_CRASHES:
                finish(error_rows(task, plan.codecs, crash.reason))
            else:
                suspects.appendleft(task)

    def submit(task: list[Job]) -> None:
        alone = not in_flight
        try:
            in_flight[backend.submit(task)] = (task, time.monotonic())
        except TaskCrashed as crash:
            crashed(task, crash, alone)

    backend.start(plan)
    try:
        while queue or suspects or in_flight:
            if suspects:
                if not in_flight:
                    submit(suspects.popleft())
            else:
                while queue and len(in_flight) < backend.window():
                    submit(queue.take())
            if not in_flight:
                continue
            alone = len(in_flight) == 1
            for handle in backend.wait(list(in_flight), 1.0 if backend.row_timeout is not None else None):
                if handle not in in_flight:
                    continue  # taken with an earlier crash of this round
                task, _ = in_flight.pop(handle)
                try:
                    records = backend.collect(handle)
                except TaskCrashed as crash:
                    crashed(task, crash, alone)
                    continue
                finish(records)
            _stop_overdue(backend, in_flight, finish, plan)
    finally:
        backend.stop()


class _Lookahead:
    """An iterator that says whether it has another item (``bool``) before it is taken."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = iter(items)
        self.next = next(self.items, _END)

    def __bool__(self) -> bool:
        return self.next is not _END

    def take(self) -> Any:
        item, self.next = self.next, next(self.items, _END)
        return item


_END = object()


def _stop_overdue(backend: Backend, in_flight: dict[Any, tuple[list[Job], float]], finish: Callable, plan: RunPlan) -> None:
    if backend.row_timeout is None:
        return
    now = time.monotonic()
    for handle, (task, started) in list(in_flight.items()):
        if now - started > backend.row_timeout * len(task):
            in_flight.pop(handle)
            backend.abandon(handle)
            finish(error_rows(task, plan.codecs, f"ran past the per-row limit of {backend.row_timeout:g} s (--row-timeout); "
                                                 "its worker was restarted"))


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


def local_backend(jobs: int) -> Backend:
    """This process for one job, else a pool of ``jobs`` worker processes."""
    return InProcess() if jobs <= 1 else LocalPool(jobs)


def _start_method() -> str:
    """``fork`` where it is safe (Linux, CUDA not initialised here): workers start in
    milliseconds instead of re-importing torch; ``spawn`` otherwise."""
    torch = sys.modules.get("torch")
    if sys.platform == "linux" and not (torch is not None and torch.cuda.is_initialized()):
        return "fork"
    return "spawn"
