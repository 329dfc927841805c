"""Helpers shared by tests: running the real `bench` command line in a subprocess, and throwaway plug-ins."""
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


def make_plugin(folder: Path, distribution: str, module: str, source: str, entry_points: str) -> Path:
    """A throwaway installed distribution in ``folder`` (put it on ``PYTHONPATH`` / ``sys.path``):
    the module ``module`` with ``source``, and ``entry_points.txt`` with ``entry_points``.
    Site-packages is left alone."""
    (folder / module).mkdir(parents=True)
    (folder / module / "__init__.py").write_text(source)
    dist_info = folder / f"{module}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(entry_points)
    return folder
