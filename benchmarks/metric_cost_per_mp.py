"""Seconds per megapixel of every metric that can run here: the figures ``bench metrics`` shows.

Each metric scores the same pairs: the first ``--images`` Kodak images (768 x 512, 0.39 MP)
against their JPEG quality-50 round trip, through ``bench.core.measure.measure_metrics`` as ``bench run`` calls
it (a set metric such as FID computes the reconstruction's features there). One untimed call
per metric first (imports, model loading, caches); then the best of ``--repeats`` passes over
the pairs, divided by their megapixels. Torch uses the threads it is given (``--threads``,
default 2, the CI machine's cores). DISTS without its ImageNet VGG16 trunk is timed with a
seeded random trunk of the same architecture (``--dists-random-trunk``): its cost does not
depend on the weights' values, only its scores do. Prints a table; ``--write`` also stores it in
bench/data/metric_cost.yaml with the machine it was measured on.

    PYTHONPATH=. python benchmarks/metric_cost_per_mp.py --weights-dir ../shared/weights --data-dir ../shared/datasets --write
"""
from __future__ import annotations

import argparse
import io
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np

COST_FILE = Path(__file__).resolve().parents[1] / "bench" / "data" / "metric_cost.yaml"


def jpeg_round_trip(image: np.ndarray, quality: int = 50) -> np.ndarray:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def seconds_per_megapixel(metric, pairs: list[tuple[np.ndarray, np.ndarray]], repeats: int) -> float:
    from bench.core.measure import measure_metrics
    from bench.core.rows import Measured

    megapixels = sum(reference.shape[0] * reference.shape[1] for reference, _ in pairs) / 1e6
    measure_metrics([metric], *pairs[0], Measured(row={}))
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for reference, reconstruction in pairs:
            measure_metrics([metric], reference, reconstruction, Measured(row={}))
        best = min(best, time.perf_counter() - started)
    return best / megapixels


def dists_with_random_trunk():
    """DISTS on a seeded random VGG16 trunk saved in a temporary weights folder (for timing only)."""
    import tempfile

    import torch

    from bench._torchvision import ensure_torchvision
    from bench.metrics.dists import DISTS, DISTSOptions

    ensure_torchvision()
    import torchvision

    folder = Path(tempfile.mkdtemp(prefix="bench-dists-timing-"))
    (folder / "dists_vgg16_features").mkdir()
    torch.manual_seed(0)
    torch.save(torchvision.models.vgg16(weights=None).features.state_dict(), folder / "dists_vgg16_features" / "vgg16_features_imagenet.pth")
    return DISTS(DISTSOptions(weights_dir=folder))


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    import torch
    import yaml

    from bench.datasets import resolve
    from bench.imageio import read_image
    from bench.metrics.dists import DISTSOptions
    from bench.metrics.inception import InceptionOptions
    from bench.metrics.lpips import LPIPSOptions
    from bench.metrics.niqe import NIQEOptions
    from bench.metrics.registry import select_metrics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--weights-dir", type=Path, default=None)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--metrics", default="all", help="comma-separated names, a group such as ctc, or all")
    parser.add_argument("--write", action="store_true", help=f"store the figures in {COST_FILE.name}")
    parser.add_argument("--dists-random-trunk", action="store_true", help="time DISTS with a random VGG16 trunk when its weights are missing")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    options = [LPIPSOptions(weights_dir=args.weights_dir), InceptionOptions(weights_dir=args.weights_dir),
               NIQEOptions(weights_dir=args.weights_dir), DISTSOptions(weights_dir=args.weights_dir)]
    selection = select_metrics(args.metrics, options)
    random_trunk = args.dists_random_trunk and "dists" in selection.unavailable
    if random_trunk:
        selection.chosen["dists"] = dists_with_random_trunk()
        del selection.unavailable["dists"]
    images = [read_image(path) for path in resolve("kodak", args.data_dir, download=False)[: args.images]]
    pairs = [(image, jpeg_round_trip(image)) for image in images]
    figures = {}
    for name, metric in selection.chosen.items():
        metric.use_device("cpu")
        figures[name] = round(seconds_per_megapixel(metric, pairs, args.repeats), 4)
        print(f"{name:<12} {figures[name]:8.4f} s/MP", flush=True)
    for name, reason in selection.unavailable.items():
        print(f"{name:<12} not measured: {reason}")
    if args.write:
        stored = yaml.safe_load(COST_FILE.read_text()) if COST_FILE.exists() else {}
        stored.setdefault("seconds_per_megapixel", {}).update(figures)
        stored["measured"] = {
            "on": f"{cpu_name()}, {args.threads} torch threads, CPU",
            "date": date.today().isoformat(),
            "workload": f"{len(pairs)} Kodak images (768x512) vs JPEG q50, best of {args.repeats}"
                        + ("; dists on a random VGG16 trunk" if random_trunk else ""),
            "by": "benchmarks/metric_cost_per_mp.py",
        }
        COST_FILE.write_text(yaml.safe_dump(stored, sort_keys=True))
        print(f"wrote {COST_FILE}")


if __name__ == "__main__":
    main()
