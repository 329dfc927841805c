"""How many encodes rate control needs, and how often it lands within ±3 %, on a dataset.

    python benchmarks/ratecontrol.py --images $BENCH_DATA_DIR/kodak --codecs jpeg,webp --targets 0.1,0.2,0.4,0.8
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench.codecs.registry import select_codecs
from bench.imageio import read_image
from bench.codecs.base import bits_per_pixel
from bench.core.ratecontrol import encode_at_target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, required=True, help="folder of PNG images")
    parser.add_argument("--codecs", default="jpeg,webp")
    parser.add_argument("--targets", default="0.1,0.2,0.4,0.8")
    parser.add_argument("--tolerance", type=float, default=0.03)
    args = parser.parse_args()
    targets = [float(t) for t in args.targets.split(",")]
    images = [read_image(path) for path in sorted(args.images.glob("*.png"))]
    for name, codec in select_codecs(args.codecs).chosen.items():
        counts, errors, at_end, start = [], [], 0, time.perf_counter()
        for image in images:
            for target in targets:
                setting, result, n_encodes = encode_at_target(codec, image, target, args.tolerance)
                counts.append(n_encodes)
                at_end += setting in codec.quality_range
                errors.append(bits_per_pixel(result.bitstream, image) / target - 1)
        counts, errors = np.array(counts), np.abs(np.array(errors))
        print(
            f"{name:<8} {len(counts)} searches on {len(images)} images: encodes mean {counts.mean():.2f} "
            f"max {counts.max()} (>8: {(counts > 8).sum()}); within ±{args.tolerance:.0%}: "
            f"{(errors <= args.tolerance).mean():.0%}; at an end of the knob's range: {at_end}; median |error| {np.median(errors):.1%}, max {errors.max():.1%}; "
            f"{time.perf_counter() - start:.1f} s"
        )


if __name__ == "__main__":
    main()
