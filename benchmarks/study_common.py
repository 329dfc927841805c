"""What the study benchmarks share: a small real run and study, and a ``bench study serve`` process.

The run: synthetic 96 x 96 images (smooth colour fields with texture, seeded) x JPEG at five
qualities, PSNR, reconstructions saved; the study: every pair of the five conditions on each image.
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
from PIL import Image

QUALITIES = [5, 15, 30, 50, 80]


def small_study(root: Path, images: int = 4, **design):
    """A study of a fresh run in ``root`` (``design`` goes to ``create_study``)."""
    from bench.codecs.jpeg import JPEG
    from bench.core.benchmark import run_benchmark
    from bench.core.plan import ImageSource, RunPlan
    from bench.metrics.registry import select_metrics
    from bench.study.design import create_study

    rng = np.random.default_rng(0)
    (root / "originals").mkdir(parents=True)
    sources = []
    for k in range(images):
        y, x = np.mgrid[0:96, 0:96] / 96.0
        base = np.stack([np.sin(6 * x + k), np.cos(5 * y - k), np.sin(4 * (x + y) + 2 * k)], axis=-1)
        pixels = np.clip(127 + 80 * base + rng.normal(0, 18, base.shape), 0, 255).astype(np.uint8)
        path = root / "originals" / f"synthetic{k}.png"
        Image.fromarray(pixels).save(path)
        sources.append(ImageSource("synthetic", path.name, path))
    plan = RunPlan(images=sources, codecs={"jpeg": JPEG()}, metrics=list(select_metrics("psnr").chosen.values()),
                   settings={"jpeg": QUALITIES}, save_reconstructions=True)
    run_benchmark(plan, root / "run", jobs=1, metadata={"command_line": "benchmarks/study_common.py"})
    pairs = [(f"jpeg/{a}", f"jpeg/{b}") for a, b in combinations(QUALITIES, 2)]
    design.setdefault("pairs", pairs)
    return create_study(root / "run", root / "study", matched=[], originals={s.name: s.path for s in sources}, **design)


@contextlib.contextmanager
def served(study_dir: Path) -> Iterator[str]:
    """Run ``bench study serve`` on a free loopback port; yield its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "bench", "study", "serve", str(study_dir), "--port", str(port)],
                               stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)
