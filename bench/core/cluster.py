"""Running a plan's tasks on a Dask cluster (``bench run --scheduler ADDRESS``).

The client (this process) stays the only writer of the run folder: workers receive tasks and
return rows, the client stores them task by task as in a local run, so resuming, "a rerun
does no codec work" and metric signatures behave exactly as locally.

* The plan's codecs and metrics are sent to every worker once (``scatter(broadcast=True)``)
  and stay there: a learned codec or a network metric loads its model once per worker.
* Images travel as the bytes of their files from the client (no shared filesystem needed),
  unless ``shared_storage``: then workers open the paths themselves.
* Reconstructions (``--save-recon``) come back as PNG bytes in the rows; the client writes them.
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
import io
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from bench.errors import BenchError, one_line

if TYPE_CHECKING:
    from distributed import Client

    from bench.core.runner import Job, RunPlan

#: Row field carrying a row's files (relative path -> bytes: reconstruction PNG, bitstream) from a worker
#: to the client, which writes them into the run folder; never stored.
FILES_FIELD = "_files"
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


class _FilesInMemory:
    """Stands in for the run folder on a worker: keeps reconstructions (as PNG) and bitstreams as bytes."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def save_reconstruction(self, image: Any, relpath: str) -> None:
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")
        self.files[relpath] = buffer.getvalue()

    def save_file(self, data: bytes, relpath: str) -> None:
        self.files[relpath] = data


_prepared: set[int] = set()
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


def run_remote_task(
    state: tuple[dict[str, Any], Sequence[Any]], jobs: Sequence["Job"], image_bytes: bytes | None,
    threads: int | None, workers_per_host: dict[str, int], outputs: tuple[bool, bool, bool],
) -> list[dict[str, Any]]:
    """Worker entry point: one task's rows, measured here with the worker's copy of the plan's parts."""
    from bench.core import runner
    from bench.core.processes import limit_threads

    codecs, metrics = state
    if id(state) not in _prepared:  # once per worker and plan: the parts stay loaded between tasks
        limit_threads(threads or _threads_here(workers_per_host))
        _allow_large_heap()
        _prepared.add(id(state))
    if image_bytes is not None:
        local = _local_copy(jobs[0].image.name, image_bytes)
        jobs = [replace(job, image=replace(job.image, path=local)) for job in jobs]
    keep_reconstructions, keep_bitstreams, verify = outputs
    rows = []
    for job in jobs:
        sink = _FilesInMemory()
        rows.append(runner.run_job(
            job, codecs[job.codec], metrics, sink if keep_reconstructions else None, sink if keep_bitstreams else None, verify,
        ))
        if sink.files:
            rows[-1][FILES_FIELD] = sink.files
    return rows


# --- client side ---------------------------------------------------------------------


@dataclass
class DaskBackend:
    """Runs tasks on a Dask cluster; the runner's :func:`~bench.core.runner.execute` calls :meth:`run`."""

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
    def settings_per_task(self) -> int:
        """One row per task under a time limit, so that a stuck row costs only itself."""
        from bench.core.runner import SETTINGS_PER_TASK

        return 1 if self.row_timeout is not None else SETTINGS_PER_TASK

    def run(self, plan: "RunPlan", tasks: list[list["Job"]], finish: Callable[[list[dict[str, Any]]], None]) -> None:
        distributed = _distributed()
        state = self.client.scatter((plan.codecs, plan.metrics), broadcast=True, hash=False)
        hosts = self.workers_per_host or {}
        # Two tasks per worker thread: the next one is queued there while the last one's rows travel back.
        window = self.jobs or 2 * worker_threads(self.client)
        queue = iter(tasks)
        in_flight: dict[Any, tuple[list["Job"], float]] = {}

        def submit_next() -> None:
            task = next(queue, None)
            if task is None:
                return
            # The bytes travel inside the task, not scattered ahead: data scattered to one worker
            # dies with it, and then every task that needs it is cancelled instead of retried.
            data = None if self.shared_storage else Path(task[0].image.path).read_bytes()
            future = self.client.submit(
                run_remote_task, state, task, data, self.threads, hosts,
                (plan.recon_dir is not None, plan.bitstream_dir is not None, plan.verify), pure=False,
            )
            in_flight[future] = (task, time.monotonic())

        try:
            for _ in range(window):
                submit_next()
            while in_flight:
                try:
                    with self.client.as_current():
                        done = distributed.wait(list(in_flight), timeout=1.0, return_when="FIRST_COMPLETED").done
                except TimeoutError:  # nothing finished within the second: look for overdue tasks
                    done = set()
                for future in done:
                    task, _ = in_flight.pop(future)
                    finish(self._rows_of(future, task, plan))
                    submit_next()
                self._stop_overdue(in_flight, finish, plan, submit_next)
        except (distributed.client.FutureCancelledError, concurrent.futures.CancelledError, OSError, TimeoutError) as exc:
            raise ClusterError(
                f"the Dask scheduler went away ({one_line(exc)}); the rows done so far are stored: "
                "run the same command again to resume"
            ) from None
        finally:
            for future in in_flight:
                future.cancel()

    def _rows_of(self, future: Any, task: list["Job"], plan: "RunPlan") -> list[dict[str, Any]]:
        from distributed.scheduler import KilledWorker

        from bench.core import runner

        try:
            rows = future.result()
        except KilledWorker as exc:
            return runner.crash_rows(task, plan.codecs, f"Dask worker died while running it, on every retry ({one_line(exc)})")
        for row in rows:
            for relpath, data in row.pop(FILES_FIELD, {}).items():
                folder = plan.bitstream_dir if relpath == row.get("bitstream_path") else plan.recon_dir
                folder.save_file(data, relpath)
        return rows

    def _stop_overdue(self, in_flight: dict[Any, tuple[list["Job"], float]], finish: Callable, plan: "RunPlan", submit_next: Callable) -> None:
        from bench.core import runner

        if self.row_timeout is None:
            return
        now = time.monotonic()
        for future, (task, started) in list(in_flight.items()):
            if now - started <= self.row_timeout * len(task):
                continue
            worker = self._worker_of(future)
            future.cancel()
            in_flight.pop(future)
            if worker:
                self.client.restart_workers([worker], raise_for_error=False)
            finish(runner.crash_rows(task, plan.codecs, f"ran past the per-row limit of {self.row_timeout:g} s (--row-timeout); its worker was restarted"))
            submit_next()

    def _worker_of(self, future: Any) -> str | None:
        key = future.key

        def processing_on(dask_scheduler: Any) -> str | None:
            task = dask_scheduler.tasks.get(key)
            return task.processing_on.address if task is not None and task.processing_on is not None else None

        return self.client.run_on_scheduler(processing_on)

