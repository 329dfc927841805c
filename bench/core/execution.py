"""Running a plan's pending tasks: one loop, three backends.

:func:`execute` hands tasks (one image, one codec, a few operating points) to a backend a bounded
window ahead, in order (so that the tasks of one image stay together), writes each task's rows
into the store and its files into the run folder as soon as it returns (the only writer is this
process), and handles what can go wrong the same way for every backend:

* **a worker that dies** (a codec that crashes its process): the task that was alone in flight
  is run again, and after :data:`MAX_CRASHES` deaths its jobs become error rows; when several
  tasks were in flight, each is run again alone first, so that a crash is surely its own;
* **a task past its time limit** (``row_timeout`` seconds per row, :data:`DEFAULT_ROW_TIMEOUT`
  unless set, on every backend): error rows naming the limit; a worker process running it is
  killed and replaced (the other tasks in flight on a local pool run again), in this process it
  is interrupted (:func:`~bench.processes.time_limit`).

Backends: :class:`InProcess` (``--jobs 1``: this process, every core for torch),
:class:`LocalPool` (worker processes on this machine) and ``cluster.DaskBackend`` (a Dask
cluster). Devices and processes: on the CPU each of ``jobs`` local workers gets
``cores // jobs`` torch threads; with CUDA, workers take the visible GPUs in turn (one per GPU by
default, see :func:`default_jobs`); CUDA is never initialised here, so workers can be forked.
Workers die with this process, however it dies, and :meth:`Backend.stop` kills them, so that
an interrupted run leaves no process behind.
"""
from __future__ import annotations

import collections
import concurrent.futures as futures
import multiprocessing
import os
import sys
import time
from typing import Any, Callable, Iterable, Sequence

from bench.constants import DEFAULT_ROW_TIMEOUT
from bench.core.measure import error_rows, measure_task
from bench.core.memory import available_memory, task_bytes, too_big_reason
from bench.core.plan import JOBS_PER_TASK, Job, RunPlan, iter_pending_jobs, make_tasks
from bench.core.rows import Measured
from bench.errors import one_line
from bench.processes import TimeLimitExceeded, die_with_parent, limit_threads, time_limit

#: A task that killed its worker this many times, alone in flight, is recorded as crashed.
MAX_CRASHES = 2


def timeout_reason(limit: float, restarted: bool) -> str:
    """The error of the rows of a task that ran past ``limit`` seconds per row."""
    worker = "; its worker process was replaced" if restarted else ""
    return f"ran past the per-row limit of {limit:g} s (--row-timeout){worker}"


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
    #: Bytes the tasks in flight may need together by their estimates (``bench/core/memory.py``); None: no admission.
    max_memory: int | None = None

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

    def abandon(self, handle: Any) -> bool:
        """Stop a task that ran past its limit (and restart the worker running it); True when
        every other task in flight was lost with it (the loop runs them again)."""
        return False

    def reset(self) -> None:
        """Start afresh after a worker died (the tasks in flight are forgotten)."""

    def stop(self) -> None:
        """Release the workers (tasks still in flight are cancelled)."""


class InProcess(Backend):
    """In this process, one task at a time, with every core for torch (its default); a task past
    its limit is interrupted (SIGALRM, see :func:`~bench.processes.time_limit`)."""

    def __init__(self, row_timeout: float | None = DEFAULT_ROW_TIMEOUT, max_memory: int | None = None) -> None:
        self.row_timeout, self.max_memory = row_timeout, max_memory

    def start(self, plan: RunPlan) -> None:
        super().start(plan)
        self.results: dict[int, list[Measured]] = {}
        plan.use_device(worker_devices(plan.device)[0])

    def submit(self, task: list[Job]) -> Any:
        handle = len(self.results)
        try:
            with time_limit(self.row_timeout * len(task) if self.row_timeout is not None else None):
                self.results[handle] = measure_task(task, self.plan)
        except TimeLimitExceeded:
            self.results[handle] = error_rows(task, self.plan.codecs, timeout_reason(self.row_timeout or 0, restarted=False))
        return handle

    def wait(self, handles: list[Any], timeout: float | None) -> set[Any]:
        return set(handles)

    def abandon(self, handle: Any) -> bool:  # never overdue: submit returns when the limit passes
        return False

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
    and the next task starts a fresh one). A task past its limit kills the pool's workers (the
    executor cannot kill one); the other tasks in flight run again on fresh ones."""

    def __init__(self, jobs: int, row_timeout: float | None = DEFAULT_ROW_TIMEOUT, max_memory: int | None = None) -> None:
        self.jobs = jobs
        self.row_timeout, self.max_memory = row_timeout, max_memory
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
            raise TaskCrashed(f"worker process died ({one_line(exc)}); the codec crashed, or the kernel killed it "
                              "for memory (see --max-memory)") from None

    def abandon(self, handle: Any) -> bool:
        self.stop()
        return True

    def reset(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Kill the workers (idle ones lose nothing; a stuck one would keep this process from
        exiting, as the executor joins its workers at exit) and forget the pool."""
        pool, self.pool = self.pool, None
        if pool is None:
            return
        processes = list((pool._processes or {}).values())  # the executor has no public handle on them
        for process in processes:
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(5)


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
        backend = InProcess(backend.row_timeout, backend.max_memory)  # no pool to start for one task

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
    def estimate(task: list[Job]) -> int:
        """A task's estimated peak memory (bench/core/memory.py; its image sizes are cached there)."""
        return task_bytes(task, plan) if backend.max_memory is not None else 0

    def admissible(task: list[Job]) -> bool:
        """Whether ``task`` fits beside the tasks in flight (a task alone always starts)."""
        held = sum(estimate(other) for other, _ in in_flight.values())
        return not in_flight or backend.max_memory is None or held + estimate(task) <= backend.max_memory

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
                    if backend.max_memory is not None and estimate(queue.next) > backend.max_memory:
                        task = queue.take()
                        finish(error_rows(task, plan.codecs, too_big_reason(estimate(task), backend.max_memory)))
                        continue
                    if not admissible(queue.next):
                        break
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
            queue.put_back(_stop_overdue(backend, in_flight, finish, plan))
    finally:
        backend.stop()


class _Lookahead:
    """The tasks to run, taken one by one from an iterator, with the next one in view (``next``) and
    a way to run tasks again first (:meth:`put_back`): tasks stopped beside an overdue one."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = iter(items)
        self.again: collections.deque[Any] = collections.deque()
        self.upcoming = next(self.items, _END)

    def __bool__(self) -> bool:
        return bool(self.again) or self.upcoming is not _END

    @property
    def next(self) -> Any:
        return self.again[0] if self.again else self.upcoming

    def take(self) -> Any:
        if self.again:
            return self.again.popleft()
        item, self.upcoming = self.upcoming, next(self.items, _END)
        return item

    def put_back(self, items: Sequence[Any]) -> None:
        self.again.extendleft(reversed(items))


_END = object()


def _stop_overdue(backend: Backend, in_flight: dict[Any, tuple[list[Job], float]], finish: Callable, plan: RunPlan) -> list[list[Job]]:
    """Error rows for the tasks past their limit; the other tasks in flight lost with them, to run again."""
    if backend.row_timeout is None:
        return []
    now = time.monotonic()
    lost: list[list[Job]] = []
    for handle, (task, started) in list(in_flight.items()):
        if handle in in_flight and now - started > backend.row_timeout * len(task):
            in_flight.pop(handle)
            if backend.abandon(handle):
                lost.extend(other for other, _ in in_flight.values())
                in_flight.clear()
            finish(error_rows(task, plan.codecs, timeout_reason(backend.row_timeout, restarted=True)))
    return lost


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


def local_backend(jobs: int, row_timeout: float | None = DEFAULT_ROW_TIMEOUT, max_memory: int | None = None) -> Backend:
    """This process for one job, else a pool of ``jobs`` worker processes; ``row_timeout``: seconds
    per row (None: no limit); ``max_memory``: bytes the tasks in flight may need together (None:
    the memory available now)."""
    budget = max_memory if max_memory is not None else available_memory()
    return InProcess(row_timeout, budget) if jobs <= 1 else LocalPool(jobs, row_timeout, budget)


def _start_method() -> str:
    """``fork`` where it is safe (Linux, CUDA not initialised here): workers start in
    milliseconds instead of re-importing torch; ``spawn`` otherwise."""
    torch = sys.modules.get("torch")
    if sys.platform == "linux" and not (torch is not None and torch.cuda.is_initialized()):
        return "fork"
    return "spawn"
