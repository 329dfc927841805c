"""Memory admission: a task starts only when its estimated peak memory fits beside the tasks in flight.

A task's estimate is its image's pixels x (its codec's + the plan's metrics'
``peak_bytes_per_pixel``, class attributes measured by benchmarks/peak_memory.py, see
docs/memory.md). The budget is ``--max-memory``, by default the memory available when the run
starts (``MemAvailable``). A task that does not fit even alone becomes error rows before it starts.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Sequence

from bench.core.plan import Job, RunPlan
from bench.errors import BenchError

GIB = 2**30
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": GIB, "t": 2**40}


def parse_size(text: str) -> int:
    """``"16G"``, ``"512M"``, ``"2.5g"``, ``"1000000"`` -> bytes (binary units)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmMgGtT]?)i?[bB]?\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise BenchError(f"--max-memory {text!r}: expected a size such as 16G, 512M or 2.5G")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def available_memory() -> int:
    """Bytes this machine can give without swapping now: ``MemAvailable``, else the physical memory."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


@functools.lru_cache(maxsize=1024)
def image_pixels(path: Path) -> int:
    """Pixels of an image, from its header (0 when it cannot be read: its job reports why)."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():  # the job itself records what reading the file warns about
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                return image.width * image.height
    except Exception:  # noqa: BLE001 - a bad image is its job's error row, not the estimate's
        return 0


def task_bytes(task: Sequence[Job], plan: RunPlan) -> int:
    """The estimated peak memory of one task (one image and codec; its settings run one after another)."""
    per_pixel = plan.codecs[task[0].codec].peak_bytes_per_pixel + sum(metric.peak_bytes_per_pixel for metric in plan.metrics)
    return int(image_pixels(task[0].image.path) * per_pixel)


def too_big_reason(need: int, budget: int) -> str:
    return (f"needs about {need / GIB:.1f} GiB by the estimate (pixels x bytes per pixel of the codec and metrics, "
            f"docs/memory.md), more than the {budget / GIB:.1f} GiB allowed (--max-memory, default: the memory available); "
            "not started")
