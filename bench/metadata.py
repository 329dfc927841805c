"""What a run records about itself: versions, commit, command line, machine, times."""
from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Iterable

import bench

CORE_LIBRARIES = ("numpy", "pillow", "torch", "pandas", "scikit-image")


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def git_commit() -> str:
    """The commit of the bench checkout (with ``-dirty`` if modified), or ``unknown``."""
    source = Path(bench.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


@functools.lru_cache(maxsize=None)
def library_version(distribution: str) -> str:
    """The installed version of ``distribution`` (looked up once per process), or ``not installed``."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def library_versions(names: Iterable[str]) -> dict[str, str]:
    """:func:`library_version` of each of ``names``, by name."""
    return {name: library_version(name) for name in sorted(set(names))}


def machine() -> dict[str, Any]:
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
    }


def run_metadata(extra_libraries: Iterable[str] = (), argv: list[str] | None = None) -> dict[str, Any]:
    """The metadata of one invocation; ``finished`` is filled in when it ends."""
    return {
        "bench_version": bench.__version__,
        "git_commit": git_commit(),
        "command_line": " ".join(argv if argv is not None else sys.argv),
        "library_versions": library_versions([*CORE_LIBRARIES, *extra_libraries]),
        "machine": machine(),
        "started": now(),
        "finished": None,
    }
