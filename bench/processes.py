"""Process helpers shared by every place that starts worker processes: torch threads, dying with
the parent, time limits."""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from typing import Any, Iterator


def limit_threads(threads: int) -> None:
    """Torch (and the OpenMP/MKL pools under it) on ``threads`` threads, whether it is imported yet or not."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def die_with_parent(parent_pid: int) -> None:
    """End this process as soon as ``parent_pid`` is gone, even after ``kill -9`` of it."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:  # elsewhere (and as a second guard): poll the parent
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


class TimeLimitExceeded(BaseException):
    """Raised in the main thread by :func:`time_limit` when its limit passes.

    A ``BaseException``, so that a codec's own ``except Exception`` does not swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in the block once ``seconds`` have passed (SIGALRM).

    It interrupts Python code (a loop, a sleep, a torch call when it returns); C code that never
    returns to the interpreter is only stopped by running it in a worker process that can be
    killed. A no-op outside the main thread, where no SIGALRM exists, for None, or inside another
    limit (the outer one holds)."""
    usable = (seconds is not None and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise TimeLimitExceeded(f"{seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
