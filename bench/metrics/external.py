"""Metrics computed by an external program: finding it, and running it with one-line errors."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bench.errors import BenchError


class ProgramUnavailable(BenchError):
    """The program a metric runs is not installed (or not where the option points)."""


def find_program(chosen: str | Path | None, default: str, metric: str, install: str) -> Path:
    """``chosen`` (a path or a name on PATH), else ``default`` on PATH; one line naming the fix."""
    wanted = str(chosen) if chosen else default
    found = shutil.which(wanted)
    if found is None:
        raise ProgramUnavailable(f"{metric}: program {wanted!r} not found; {install}")
    return Path(found)


def run_program(command: list[str], metric: str, timeout: float = 600.0) -> str:
    """Run ``command``; its standard output, or a one-line error with the end of its standard error."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{metric}: {Path(command[0]).name} ran longer than {timeout:g} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"{metric}: {Path(command[0]).name} failed (exit {done.returncode}): {last}")
    return done.stdout
