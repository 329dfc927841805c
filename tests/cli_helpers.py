"""Helpers shared by tests: running the real `bench` command line in a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def bench_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench", *args]


def bench_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), extra.pop("PYTHONPATH", ""), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def run_bench(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(bench_command(*args), capture_output=True, text=True, env=bench_env(**extra_env), timeout=600)
