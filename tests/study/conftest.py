"""A small real run with reconstructions, a study made from it, and the study served by a real
``bench study serve`` process on a free loopback port.

The run: 192 x 192 crops of 4 Kodak images x JPEG and WebP at 3 settings; PSNR, MS-SSIM, YUV PSNR
and NIQE (a no-reference metric that disagrees with PSNR on some pairs); made by the project's own
runner with ``save_reconstructions`` (what ``bench run --save-recon`` does). The study: matched-bpp pairs plus the within-codec neighbours, so that the
design connects every condition.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image

from bench.codecs.jpeg import JPEG
from bench.codecs.webp import WebP
from bench.core.benchmark import run_benchmark
from bench.core.plan import ImageSource, RunPlan
from bench.metrics.registry import select_metrics
from bench.study.design import create_study

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {"jpeg": [5, 20, 60], "webp": [5, 30, 70]}
NEIGHBOURS = [("jpeg/5", "jpeg/20"), ("jpeg/20", "jpeg/60"), ("webp/5", "webp/30"), ("webp/30", "webp/70")]
CROP = 192


@pytest.fixture(scope="session")
def study_run(tmp_path_factory: pytest.TempPathFactory, kodak_dir: Path) -> tuple[Path, Path]:
    """(run folder, folder of the original crops)."""
    root = tmp_path_factory.mktemp("study-run")
    originals = root / "originals"
    originals.mkdir()
    images = []
    for path in sorted(kodak_dir.glob("*.png"))[:4]:
        pixels = np.asarray(Image.open(path).convert("RGB"))
        top, left = (pixels.shape[0] - CROP) // 2, (pixels.shape[1] - CROP) // 2
        Image.fromarray(pixels[top:top + CROP, left:left + CROP]).save(originals / path.name)
        images.append(ImageSource("kodak", path.name, originals / path.name))
    plan = RunPlan(images=images, codecs={"jpeg": JPEG(), "webp": WebP()},
                   metrics=list(select_metrics("psnr,ms_ssim,yuv_psnr,niqe").chosen.values()), settings=SETTINGS,
                   save_reconstructions=True)
    run_benchmark(plan, root / "run", jobs=1, metadata={"command_line": "bench run --save-recon"})
    return root / "run", originals


@pytest.fixture(scope="session")
def make_study(study_run: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory):
    """Make a study of :func:`study_run` in a new folder; keyword arguments go to ``create_study``."""
    run_dir, originals = study_run

    def make(**options):
        options.setdefault("pairs", NEIGHBOURS)
        return create_study(run_dir, tmp_path_factory.mktemp("study"), originals=originals, **options)

    return make


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
            [sys.executable, "-m", "bench", "study", "serve", str(study_dir), "--port", str(self.port)],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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


@pytest.fixture
def serve() -> Iterator:
    """Start a server for a study folder; every one started is stopped after the test."""
    servers = []

    def start(study_dir: Path) -> Server:
        servers.append(Server(study_dir))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
