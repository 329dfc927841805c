"""Harness overhead and parallel speed-up of `bench run`, as whole processes.

Does the same work three ways, each as a fresh Python process (start-up and imports count),
and prints the wall times:

1. a plain loop calling Pillow, skimage's PSNR and pytorch_msssim directly;
2. ``bench run --jobs 1`` into a fresh run folder (store, tables and metadata written);
3. ``bench run --jobs 2``.

Work: Kodak (24 images) x JPEG at 10 qualities, PSNR + MS-SSIM. Goals (issue 12): (2) within
5 % of (1); (3) over (2) the speed-up the cores allow. Run it with the machine otherwise idle.
``--baseline DIR`` also times (2) with the package of another checkout (``git worktree add --detach
DIR COMMIT``), alternating the two so that a change of load hits both alike, and prints the ratio
(issue 34: within 2 % of before).

    python benchmarks/harness_overhead.py [--images 24] [--repeats 3] [--baseline ../codec-bench-before]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

QUALITIES = (5, 15, 25, 35, 45, 55, 65, 75, 85, 95)

PLAIN_LOOP = textwrap.dedent(
    """
    import io, sys
    from pathlib import Path
    import numpy as np
    import torch
    from PIL import Image
    from pytorch_msssim import ms_ssim
    from skimage.metrics import peak_signal_noise_ratio

    paths = sorted(Path(sys.argv[1]).glob("*.png"))[: int(sys.argv[2])]
    for path in paths:
        reference = np.asarray(Image.open(path).convert("RGB"))
        as_tensor = torch.from_numpy(reference.copy()).permute(2, 0, 1)[None].float()
        for quality in QUALITIES:
            buffer = io.BytesIO()
            Image.fromarray(reference).save(buffer, format="JPEG", quality=quality, subsampling="4:2:0", optimize=True)
            decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
            peak_signal_noise_ratio(reference, decoded, data_range=255)
            with torch.no_grad():
                ms_ssim(as_tensor, torch.from_numpy(decoded.copy()).permute(2, 0, 1)[None].float(), data_range=255)
    """
).replace("QUALITIES", repr(QUALITIES))


def timed(command: list[str], package_dir: Path | None = None) -> float:
    env = None if package_dir is None else {**os.environ, "PYTHONPATH": str(package_dir)}
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def bench_run(kodak: Path, images: int, jobs: int, package_dir: Path | None = None) -> float:
    """Seconds of one ``bench run`` (the package of ``package_dir``, default: the installed one)."""
    with tempfile.TemporaryDirectory() as scratch:
        return timed([
            sys.executable, "-m", "bench", "run", "--codecs", "jpeg", "--images", str(kodak), "--limit", str(images),
            "--settings", "jpeg=" + ",".join(map(str, QUALITIES)), "--metrics", "psnr,ms_ssim",
            "--jobs", str(jobs), "--out", str(Path(scratch) / "run"),
        ], package_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=24, help="number of Kodak images")
    parser.add_argument("--repeats", type=int, default=3, help="repeats; the fastest of each is reported")
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                        help="another checkout (e.g. a git worktree of an earlier commit) to time --jobs 1 against")
    args = parser.parse_args()
    from bench import datasets

    kodak = datasets.resolve("kodak")[0].parent
    load = os.getloadavg()[0]
    plain = min(timed([sys.executable, "-c", PLAIN_LOOP, str(kodak), str(args.images)]) for _ in range(args.repeats))
    one = min(bench_run(kodak, args.images, 1) for _ in range(args.repeats))
    two = min(bench_run(kodak, args.images, 2) for _ in range(args.repeats))
    print(f"load average before: {load:.2f} (other processes distort the figures)")
    print(f"work: {args.images} Kodak images x JPEG at {len(QUALITIES)} qualities, PSNR + MS-SSIM; {os.cpu_count()} cores; whole processes")
    print(f"plain loop (Pillow + skimage + pytorch_msssim): {plain:7.2f} s")
    print(f"bench run --jobs 1:                              {one:7.2f} s   overhead {100 * (one / plain - 1):+.1f} %")
    print(f"bench run --jobs 2:                              {two:7.2f} s   speed-up {one / two:.2f}x over 1 job")
    if args.baseline is not None:
        current, baseline = [], []
        for _ in range(args.repeats):  # alternated, so that a change of load hits both alike
            current.append(bench_run(kodak, args.images, 1, Path(__file__).resolve().parent.parent))
            baseline.append(bench_run(kodak, args.images, 1, args.baseline.resolve()))
        print(f"bench run --jobs 1, {args.baseline}:  {min(baseline):7.2f} s   this checkout {min(current):7.2f} s   "
              f"ratio {min(current) / min(baseline):.3f} (fastest of {args.repeats} each)")


if __name__ == "__main__":
    main()
