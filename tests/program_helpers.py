"""Tests that run a Debian program (a reference decoder, butteraugli_main) fail in one line without it."""
from __future__ import annotations

import shutil

import pytest


def require_program(program: str, package: str) -> None:
    """Fail the calling test in one line naming the Debian package when ``program`` is not on PATH."""
    if shutil.which(program) is None:
        pytest.fail(f"{program} is not installed: sudo apt-get install {package} (.ci/run installs it)", pytrace=False)
