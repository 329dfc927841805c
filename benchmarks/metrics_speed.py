"""Speed of the metrics, and of a rerun that finds everything done.

Prints the seconds per 768 x 512 Kodak pair of every per-image metric that can run here
(PSNR, MS-SSIM, LPIPS, SSIMULACRA 2, Butteraugli, VMAF, NIQE) and of the FID/KID features of one
image, FID-Inception patches/s, the peak memory of LPIPS on one 3840 x 2160 pair, and the wall
time of `bench run --metrics psnr,lpips,fid,kid` on a few Kodak images, first and second time.

    PYTHONPATH=. python benchmarks/metrics_speed.py --weights-dir ../shared/weights --data-dir ../shared/datasets
    PYTHONPATH=. python benchmarks/metrics_speed.py --device cuda ...
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def rate(function, count: int, repeats: int = 3) -> float:
    """Items per second of ``function()`` (which handles ``count`` items), best of ``repeats``."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return count / best


def synchronised(function, device: str):
    import torch

    def call():
        function()
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights-dir", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:N")
    parser.add_argument("--images", type=int, default=3, help="Kodak images in the end-to-end run")
    args = parser.parse_args()

    import torch

    from bench.device import resolve_device
    from bench.imageio import read_image
    from bench.metrics.inception import InceptionOptions, inception_features, load_inception
    from bench.metrics.lpips import LPIPS, LPIPSOptions
    from bench.metrics.niqe import NIQEOptions
    from bench.metrics.patches import extract_patches
    from bench.metrics.registry import select_metrics
    from bench.weights import weights_file

    args.device = resolve_device(args.device)
    options = [LPIPSOptions(weights_dir=args.weights_dir, device=args.device),
               InceptionOptions(weights_dir=args.weights_dir, device=args.device), NIQEOptions(weights_dir=args.weights_dir)]
    print(f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    kodak = read_image(args.data_dir / "kodak" / "kodim01.png")
    noisy = np.clip(kodak + np.random.default_rng(0).normal(0, 8, kodak.shape), 0, 255).astype(np.uint8)
    selection = select_metrics("all", options)
    metrics = list(selection.chosen.values())
    for name, reason in selection.unavailable.items():
        print(f"{name}: not available here ({reason})")
    for metric in metrics:
        if hasattr(metric, "features"):
            call = lambda: metric.features(noisy)  # noqa: E731
        else:
            call = lambda: metric.measure(kodak, noisy)  # noqa: E731
        call()  # load and warm up
        print(f"{metric.name:12} 768x512: {1 / rate(synchronised(call, args.device), 1, repeats=2):.3f} s per image")
    lpips = LPIPS(options[0])

    model = load_inception(weights_file("fid_inception_v3", args.weights_dir), args.device)
    patches = np.concatenate([extract_patches(kodak)] * 4)
    inception_features(patches[:2], model)
    speed = rate(synchronised(lambda: inception_features(patches, model), args.device), len(patches), repeats=2)
    print(f"FID Inception, 256x256 patches (batch 32): {speed:.1f} patches/s")

    big = np.ascontiguousarray(np.tile(kodak, (5, 5, 1))[:2160, :3840])
    big_noisy = np.ascontiguousarray(np.tile(noisy, (5, 5, 1))[:2160, :3840])
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        lpips.measure(big, big_noisy)
        print(f"LPIPS alex on 3840x2160: peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
    else:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        lpips.measure(big, big_noisy)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"LPIPS alex on 3840x2160: {time.perf_counter() - started:.2f} s, process peak RSS +{(peak - before) / 2**20:.2f} GiB")

    from bench.cli import main as bench

    with tempfile.TemporaryDirectory() as scratch:
        command = [
            "run", "--codecs", "jpeg", "--dataset", "kodak", "--data-dir", str(args.data_dir),
            "--limit", str(args.images), "--settings", "jpeg=5,50,90", "--metrics", "psnr,lpips,fid,kid",
            "--weights-dir", str(args.weights_dir), "--device", args.device, "--jobs", "1",
            "--cache-dir", scratch, "--out", str(Path(scratch) / "run"),
        ]  # fmt: skip
        for attempt in ("first", "second"):
            started = time.perf_counter()
            bench(command)
            print(f"bench run ({args.images} Kodak images x 3 JPEG settings, psnr,lpips,fid,kid), {attempt} run: "
                  f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
