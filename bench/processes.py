"""Process helpers shared by every place that starts worker processes: torch threads, dying with the parent."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time


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
