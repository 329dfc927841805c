"""Helpers for the study tests: the study's pairs and hostile name, and a real ``bench study serve``
process on a free loopback port."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx

from cli_helpers import REPO_ROOT, bench_command, bench_env

#: Within-codec neighbours of the study run: with the matched pairs they connect every condition.
NEIGHBOURS = [("jpeg/5", "jpeg/20"), ("jpeg/20", "jpeg/60"), ("webp/5", "webp/30"), ("webp/30", "webp/70")]
#: The first image's name, as a data set could name it: the page must show it as text.
HOSTILE_NAME = "<img src=x onerror=alert(1)>.png"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A ``bench study serve`` process on a free loopback port."""

    def __init__(self, study_dir: Path) -> None:
        self.study_dir = study_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            bench_command("study", "serve", str(study_dir), "--port", str(self.port)),
            cwd=REPO_ROOT, env=bench_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/", timeout=1)
                return
            except httpx.TransportError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"bench study serve did not start: {self.process.stdout.read()}")

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.stdout.read()
