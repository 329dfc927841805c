"""Every per-image metric's values on a small fixed case, from the tree on ``PYTHONPATH``, as JSON.

The case: a 256 x 384 crop of kodim01 and a 321 x 481 one (odd sides, as BSDS500), each against
its JPEG round trip at quality 20 and 60 (Pillow), every metric ``--metrics all`` can run here
(``dists`` only with its trunk), and, for FID/KID, a digest of each reconstruction's Inception
features. The pixels' sha256 goes with the values, so a test can tell changed inputs from changed
metrics. tests/fixtures/metric_values_d11a4a9.json is this script's output at the commit before
the metrics prepared their reference side; tests/metrics/test_values_unchanged.py compares today's
code with it.

    git worktree add /tmp/base d11a4a9
    PYTHONPATH=/tmp/base python benchmarks/metric_values_reference.py --data-dir ../shared/datasets \
        --weights-dir ../shared/weights > tests/fixtures/metric_values_d11a4a9.json
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
from pathlib import Path

import numpy as np

#: (name, top, left, height, width) of the crops of kodim01, and the JPEG qualities.
CROPS = (("kodim01_256x384", 0, 0, 256, 384), ("kodim01_321x481", 100, 200, 321, 481))
QUALITIES = (20, 60)
#: How many leading features of each reconstruction the digest keeps, beside their sum.
FEATURES_KEPT = 16


def jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def sha256_of(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def cases(kodim01: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(case name, reference, reconstruction) of every crop and quality."""
    found = []
    for name, top, left, height, width in CROPS:
        reference = np.ascontiguousarray(kodim01[top : top + height, left : left + width])
        found += [(f"{name}_q{quality}", reference, jpeg_round_trip(reference, quality)) for quality in QUALITIES]
    return found


def measure(data_dir: Path, weights_dir: Path) -> dict:
    import bench
    from bench.imageio import read_image
    from bench.metrics.base import DistributionMetric
    from bench.metrics.inception import InceptionOptions
    from bench.metrics.lpips import LPIPSOptions
    from bench.metrics.niqe import NIQEOptions
    from bench.metrics.registry import select_metrics

    options = [LPIPSOptions(weights_dir=weights_dir), InceptionOptions(weights_dir=weights_dir), NIQEOptions(weights_dir=weights_dir)]
    chosen = select_metrics("all", options).chosen
    for metric in chosen.values():
        metric.use_device("cpu")
    kodim01 = read_image(data_dir / "kodak" / "kodim01.png")
    tree = Path(bench.__file__).resolve().parents[1]
    commit = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    result: dict = {"source": f"benchmarks/metric_values_reference.py on the bench of commit {commit or 'unknown'}", "cases": {}}
    for case, reference, reconstruction in cases(kodim01):
        values: dict = {}
        features: dict = {}
        for name, metric in chosen.items():
            if isinstance(metric, DistributionMetric):
                found = metric.features(reconstruction)
                features[metric.feature_key().split("/")[0]] = {"rows": len(found), "sum": float(found.sum(dtype=np.float64)),
                                                                 "first": [float(v) for v in found.reshape(-1)[:FEATURES_KEPT]]}
            else:
                values.update({key: value for key, value in metric.measure(reference, reconstruction).items() if isinstance(value, float)})
        result["cases"][case] = {"reference_sha256": sha256_of(reference), "reconstruction_sha256": sha256_of(reconstruction),
                                 "values": values, "features": features}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--weights-dir", type=Path, required=True)
    args = parser.parse_args()
    print(json.dumps(measure(args.data_dir, args.weights_dir), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
