"""Harness overhead and parallel speed-up of `bench run`'s runner.

Does the same work three ways and prints the wall times:

1. a plain loop calling Pillow, skimage's PSNR and pytorch_msssim directly;
2. the runner with one job (in-process), writing every row to a fresh SQLite store;
3. the runner with two worker processes.

Goals (issue 3): overhead of (2) over (1) at most 5 %, speed-up of (3) over (2) at least 1.8x.

    python benchmarks/harness_overhead.py --images 8
"""
from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from pytorch_msssim import ms_ssim
from skimage.metrics import peak_signal_noise_ratio

from bench import datasets
from bench.codecs.registry import all_codecs
from bench.metrics.registry import create_metrics
from bench.runner import ImageSource, RunPlan, execute
from bench.store import ResultStore

WORK = {"jpeg": [10, 50, 85], "webp": [15, 50, 80], "jpeg2000": [120, 32, 12]}


def plain_loop(paths: list[Path]) -> float:
    codecs = all_codecs()
    started = time.perf_counter()
    for path in paths:
        reference = np.asarray(Image.open(path).convert("RGB"))
        as_tensor = torch.from_numpy(reference.copy()).permute(2, 0, 1)[None].float()
        for name, settings in WORK.items():
            codec = codecs[name]
            for setting in settings:
                buffer = io.BytesIO()
                Image.fromarray(reference).save(buffer, format=codec.pillow_format, **codec.save_options(setting))
                decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
                peak_signal_noise_ratio(reference, decoded, data_range=255)
                with torch.no_grad():
                    ms_ssim(as_tensor, torch.from_numpy(decoded.copy()).permute(2, 0, 1)[None].float(), data_range=255)
    return time.perf_counter() - started


def harness(paths: list[Path], jobs: int) -> float:
    codecs = {name: codec for name, codec in all_codecs().items() if name in WORK}
    plan = RunPlan(
        images=[ImageSource("kodak", path.name, path) for path in paths],
        codecs=codecs, metrics=create_metrics("psnr,ms_ssim"), settings=WORK,
    )
    with tempfile.TemporaryDirectory() as scratch, ResultStore(Path(scratch) / "results.sqlite") as store:
        started = time.perf_counter()
        execute(plan, store, jobs=jobs)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=8, help="number of Kodak images")
    parser.add_argument("--repeats", type=int, default=2, help="repeats; the fastest is reported")
    args = parser.parse_args()
    paths = datasets.resolve("kodak")[: args.images]
    # Each runner job is single-threaded (--jobs N uses N cores); so is the plain loop.
    torch.set_num_threads(1)
    plain = min(plain_loop(paths) for _ in range(args.repeats))
    one = min(harness(paths, 1) for _ in range(args.repeats))
    two = min(harness(paths, 2) for _ in range(args.repeats))
    jobs = len(paths) * sum(len(s) for s in WORK.values())
    print(f"load average before: {os.getloadavg()[0]:.2f} (other processes distort the figures)")
    print(f"work: {len(paths)} Kodak images x {jobs // len(paths)} codec settings = {jobs} jobs, PSNR + MS-SSIM; {os.cpu_count()} cores")
    print(f"plain loop (Pillow + skimage + pytorch_msssim): {plain:7.2f} s")
    print(f"harness, 1 job:                                  {one:7.2f} s   overhead {100 * (one / plain - 1):+.1f} %")
    print(f"harness, 2 jobs:                                 {two:7.2f} s   speed-up {one / two:.2f}x over 1 job")


if __name__ == "__main__":
    main()
