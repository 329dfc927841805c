"""A small real run with reconstructions, a study made from it, and the study served by a real
``bench study serve`` process on a free loopback port.

The run: 192 x 192 crops of 4 Kodak images x JPEG and WebP at 3 settings; PSNR, MS-SSIM, YUV PSNR
and NIQE (a no-reference metric that disagrees with PSNR on some pairs); made by the project's own
runner with ``save_reconstructions`` (what ``bench run --save-recon`` does). The study: matched-bpp pairs plus the within-codec neighbours, so that the
design connects every condition.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from PIL import Image

from bench.codecs.jpeg import JPEG
from bench.codecs.webp import WebP
from bench.core.benchmark import run_benchmark
from bench.core.plan import ImageSource, RunPlan
from bench.metrics.registry import select_metrics
from bench.study.design import create_study

from study_helpers import HOSTILE_NAME, NEIGHBOURS, Server

SETTINGS = {"jpeg": [5, 20, 60], "webp": [5, 30, 70]}
CROP = 192


@pytest.fixture(scope="session")
def study_run(tmp_path_factory: pytest.TempPathFactory, kodak_dir: Path) -> tuple[Path, dict[str, Path]]:
    """(run folder, image name -> original crop)."""
    root = tmp_path_factory.mktemp("study-run")
    originals = root / "originals"
    originals.mkdir()
    images = []
    for k, path in enumerate(sorted(kodak_dir.glob("*.png"))[:4]):
        pixels = np.asarray(Image.open(path).convert("RGB"))
        top, left = (pixels.shape[0] - CROP) // 2, (pixels.shape[1] - CROP) // 2
        Image.fromarray(pixels[top:top + CROP, left:left + CROP]).save(originals / path.name)
        images.append(ImageSource("kodak", HOSTILE_NAME if k == 0 else path.name, originals / path.name))
    plan = RunPlan(images=images, codecs={"jpeg": JPEG(), "webp": WebP()},
                   metrics=list(select_metrics("psnr,ms_ssim,yuv_psnr,niqe").chosen.values()), settings=SETTINGS,
                   save_reconstructions=True)
    run_benchmark(plan, root / "run", jobs=1, metadata={"command_line": "bench run --save-recon"})
    return root / "run", {image.name: image.path for image in images}


@pytest.fixture(scope="session")
def make_study(study_run: tuple[Path, dict[str, Path]], tmp_path_factory: pytest.TempPathFactory):
    """Make a study of :func:`study_run` in a new folder; keyword arguments go to ``create_study``."""
    run_dir, originals = study_run

    def make(**options):
        options.setdefault("pairs", NEIGHBOURS)
        return create_study(run_dir, tmp_path_factory.mktemp("study"), originals=originals, **options)

    return make


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
