"""Running a plan's tasks on a Dask cluster (``bench run --scheduler ADDRESS``).

The client (this process) stays the only writer of the run folder: workers receive tasks and
return rows, the client stores them task by task as in a local run, so resuming, "a rerun
does no codec work" and metric signatures behave exactly as locally.

* The plan's codecs and metrics go to the cluster once, as the result of a task of their own
  that every task depends on; each worker keeps its copy (by the run's token), so a learned
  codec or a network metric loads its model once per worker. Not scattered data: when the only
  worker holding scattered data leaves (cut off, killed), Dask cancels every task that needs it;
  a task's result is computed again.
* Images travel as the bytes of their files from the client (no shared filesystem needed),
  unless ``shared_storage``: then workers open the paths themselves.
* Reconstructions and bitstreams (``--save-recon``, ``--save-bitstreams``) come back as bytes
  beside the rows; the client writes them.
* Every row records the ``host`` that measured it.
* Workers must have the client's library versions; a worker that differs is refused.
* A worker that dies mid-task (killed, out of memory) costs a retry on another worker (Dask
  reschedules it; the scheduler's ``distributed.scheduler.allowed-failures`` sets how many),
  then error rows. A task past ``row_timeout`` seconds per row becomes error rows and its worker
  is restarted. A scheduler that cannot be reached in ``connect_timeout`` seconds, or goes away,
  is one :class:`~bench.errors.BenchError` line; rows already stored stay stored.

Dask's ``distributed`` is an optional dependency (``pip install codec-bench[cluster]``).
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import os
import tempfile
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from bench.core.execution import Backend, TaskCrashed
from bench.core.plan import JOBS_PER_TASK
from bench.errors import BenchError, one_line

if TYPE_CHECKING:
    from distributed import Client

    from bench.core.plan import Job, RunPlan
    from bench.core.rows import Measured

INSTALL = "install Dask's distributed (pip install codec-bench[cluster])"


class ClusterError(BenchError):
    """A scheduler that cannot be used, or workers that do not match the client."""


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterError(f"--scheduler needs Dask: {INSTALL}") from None
    return distributed


def connect(address: str, timeout: float) -> "Client":
    """A client of the scheduler at ``address`` (``tcp://host:port``, or a scheduler file's path)."""
    distributed = _distributed()
    scheduler_file = address if Path(address).is_file() else None
    try:
        return distributed.Client(
            None if scheduler_file else address, scheduler_file=scheduler_file, timeout=timeout, set_as_default=False,
        )
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"--scheduler {address}: no Dask scheduler answered within {timeout:g} s ({one_line(exc)}); "
            "start one (dask scheduler) or check the address"
        ) from None


def _worker_versions(libraries: Sequence[str]) -> dict[str, str]:
    import bench
    from bench.metadata import library_versions

    return {"codec-bench": bench.__version__, **library_versions(libraries)}


def check_workers(client: "Client", libraries: Sequence[str]) -> dict[str, int]:
    """Refuse workers whose library versions differ from this process's; return workers per host."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    if not workers:
        raise ClusterError("the Dask cluster has no worker; start some (dask worker ADDRESS) and run again")
    mine = _worker_versions(libraries)
    for address, versions in client.run(_worker_versions, list(libraries)).items():
        differing = [f"{name} {versions.get(name)} (here {version})" for name, version in mine.items() if versions.get(name) != version]
        if differing:
            raise ClusterError(
                f"Dask worker {address} has other library versions than this machine: {', '.join(differing)}; "
                "install the same versions on every worker"
            )
    return dict(Counter(info["host"] for info in workers.values()))



def worker_threads(client: "Client") -> int:
    """Threads of all workers together: how many tasks the cluster runs at once."""
    return sum(info["nthreads"] for info in client.scheduler_info(n_workers=-1)["workers"].values()) or 1


# --- worker side ---------------------------------------------------------------------


#: The plan of the run in progress on this worker, by the run's token (see :func:`run_remote_task`).
_plans: dict[str, "RunPlan"] = {}
#: glibc ``mallopt`` parameters, and the thresholds set on workers (see :func:`_allow_large_heap`).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_HEAP_THRESHOLD = 64 * 2**20


def _allow_large_heap() -> None:
    """Undo the effect of Dask's ``MALLOC_TRIM_THRESHOLD_=65536`` on this worker process.

    The nanny sets that variable to return memory to the system promptly; it also freezes glibc's
    mmap threshold at 128 KiB, so every image-sized array is mmapped and page-faulted afresh:
    measured here, a task of 4 Kodak rows with MS-SSIM took 1.9 s instead of 0.49 s. Raising both
    thresholds at run time restores the speed (0.48 s). Only glibc has ``mallopt``.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(_M_MMAP_THRESHOLD, _HEAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, 2 * _HEAP_THRESHOLD)
    except (OSError, AttributeError):
        pass


def _local_copy(name: str, data: bytes) -> Path:
    """The image bytes as a file on this worker (named as the original, for error messages)."""
    folder = Path(tempfile.gettempdir()) / "codec-bench-images" / hashlib.sha256(data).hexdigest()[:16]
    path = folder / name
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        temporary.write_bytes(data)
        temporary.replace(path)
    return path


def _threads_here(workers_per_host: dict[str, int]) -> int:
    """Torch threads for this worker: its host's cores shared evenly among the worker threads there."""
    from dask.system import CPU_COUNT  # the cores this process may use (affinity, cgroup quota)
    from distributed import get_worker
    from distributed.comm import get_address_host

    worker = get_worker()
    sharing = workers_per_host.get(get_address_host(worker.address), 1) * worker.state.nthreads
    return max(1, CPU_COUNT // max(1, sharing))


def _plan_task(plan: "RunPlan") -> "RunPlan":
    """The task whose result is the run's plan (its spec, kept by the scheduler, can make it again)."""
    return plan


def run_remote_task(
    plan: "RunPlan", token: str, jobs: Sequence["Job"], image_bytes: bytes | None, threads: int | None,
    workers_per_host: dict[str, int],
) -> list["Measured"]:
    """Worker entry point: one task's records, measured here with the worker's copy of the plan
    of run ``token`` (its codecs and metrics stay loaded between tasks, even when Dask hands this
    worker the plan again); files travel back inside the records."""
    from bench.core.measure import measure_task
    from bench.processes import limit_threads

    if token not in _plans:  # once per worker and run
        _plans.clear()
        _plans[token] = plan
        limit_threads(threads or _threads_here(workers_per_host))
        _allow_large_heap()
    plan = _plans[token]
    if image_bytes is not None:
        local = _local_copy(jobs[0].image.name, image_bytes)
        jobs = [replace(job, image=replace(job.image, path=local)) for job in jobs]
    return measure_task(jobs, plan)


# --- client side ---------------------------------------------------------------------


@dataclass
class DaskBackend(Backend):
    """Runs tasks on a Dask cluster, for the loop of :func:`bench.core.execution.execute`."""

    client: "Client"
    #: Tasks kept in flight at once (``--jobs``); None: twice the cluster's worker threads.
    jobs: int | None = None
    #: Workers open the image paths themselves instead of receiving the files' bytes.
    shared_storage: bool = False
    #: Seconds a task may run per row before it is an error and its worker is restarted; None: no limit.
    row_timeout: float | None = None
    #: Workers on each host (from :func:`check_workers`), to share each host's cores among them.
    workers_per_host: dict[str, int] | None = None
    #: Torch threads of each task; None: its host's cores shared evenly among the worker threads there.
    threads: int | None = None

    @property
    def jobs_per_task(self) -> int:  # type: ignore[override]
        """One row per task under a time limit, so that a stuck row costs only itself."""
        return 1 if self.row_timeout is not None else JOBS_PER_TASK

    def start(self, plan: "RunPlan") -> None:
        super().start(plan)
        self.distributed = _distributed()
        if self.workers_per_host is None:
            libraries = sorted({part.library for part in [*plan.codecs.values(), *plan.metrics] if part.library})
            self.workers_per_host = check_workers(self.client, libraries)
        # The plan (codecs and metrics) travels once, as a task's result that can be made again.
        self.token = uuid.uuid4().hex
        self.state = self.client.submit(_plan_task, plan, key=f"codec-bench-plan-{self.token}", pure=False)
        self.in_flight: set[Any] = set()

    def window(self) -> int:
        # Two tasks per worker thread: the next one is queued there while the last one's rows travel back.
        return self.jobs or 2 * worker_threads(self.client)

    def submit(self, task: list["Job"]) -> Any:
        # The bytes travel inside the task, not scattered ahead: data scattered to one worker
        # dies with it, and then every task that needs it is cancelled instead of retried.
        data = None if self.shared_storage else Path(task[0].image.path).read_bytes()
        with self._scheduler_errors():
            future = self.client.submit(run_remote_task, self.state, self.token, task, data, self.threads,
                                        self.workers_per_host or {}, pure=False)
        self.in_flight.add(future)
        return future

    def wait(self, handles: list[Any], timeout: float | None) -> set[Any]:
        with self._scheduler_errors():
            try:
                with self.client.as_current():
                    done = set(self.distributed.wait(handles, timeout=timeout, return_when="FIRST_COMPLETED").done)
            except TimeoutError:  # nothing finished in time: the loop looks for overdue tasks
                done = set()
        self.in_flight -= done
        return done

    def collect(self, handle: Any) -> list["Measured"]:
        from distributed.scheduler import KilledWorker

        with self._scheduler_errors():
            try:
                return handle.result()
            except KilledWorker as exc:
                raise TaskCrashed(f"Dask worker died while running it, on every retry ({one_line(exc)})", final=True) from None

    def abandon(self, handle: Any) -> bool:
        worker = self._worker_of(handle)
        handle.cancel()
        self.in_flight.discard(handle)
        if worker:
            self.client.restart_workers([worker], raise_for_error=False)
        return False  # only that worker is restarted; Dask reschedules what else it held

    def stop(self) -> None:
        for future in [*getattr(self, "in_flight", ()), *([self.state] if hasattr(self, "state") else [])]:
            future.cancel()

    @contextmanager
    def _scheduler_errors(self) -> Iterator[None]:
        distributed = self.distributed
        try:
            yield
        except (distributed.client.FutureCancelledError, concurrent.futures.CancelledError, OSError, TimeoutError) as exc:
            raise ClusterError(
                f"the Dask scheduler went away ({one_line(exc)}); the rows done so far are stored: "
                "run the same command again to resume"
            ) from None

    def _worker_of(self, future: Any) -> str | None:
        key = future.key

        def processing_on(dask_scheduler: Any) -> str | None:
            task = dask_scheduler.tasks.get(key)
            return task.processing_on.address if task is not None and task.processing_on is not None else None

        return self.client.run_on_scheduler(processing_on)
