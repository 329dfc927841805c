"""Codecs for the cluster tests, importable by the test's Dask workers (tests/ is on their path),
and the clean-up of the processes a cluster test starts."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Iterable

from bench.codecs.jpeg import JPEG


class SlowJPEG(JPEG):
    """JPEG that takes a minute to encode at setting 7: a stuck row."""

    name = "slow-jpeg"

    def encode(self, image, setting):
        if setting == 7:
            time.sleep(60)
        return super().encode(image, setting)


def kill_process_groups(processes: Iterable[subprocess.Popen]) -> None:
    """Kill each process started with ``start_new_session=True`` with all it started, and reap it."""
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
