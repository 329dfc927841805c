"""Peak memory per image pixel of one job (a codec's encode + decode + the metrics), the figures of
``bench/core/memory.py`` and docs/memory.md.

Each case runs in a fresh process (``--jobs 1``, so the job runs in it) over one image; the figure is
(the process's peak RSS - the same process's peak RSS after importing and building everything on a
16 x 16 image) / pixels.

    python benchmarks/peak_memory.py IMAGE [CODEC:METRICS ...]   # default: jpeg:psnr jpeg:psnr,ms_ssim webp:psnr
"""
from __future__ import annotations

import subprocess
import sys

CASE = """
import resource, sys
import numpy as np
from bench.codecs.registry import CODECS
from bench.core.measure import measure_job
from bench.core.plan import ImageSource, Job, RunPlan
from bench.core.points import OperatingPoint
from bench.imageio import read_image
from bench.metrics.registry import METRICS
from pathlib import Path
from PIL import Image

codec_name, metric_names, path = sys.argv[1], sys.argv[2].split(","), Path(sys.argv[3])
codec = CODECS.select([codec_name]).chosen[codec_name]
metrics = list(METRICS.select(metric_names).chosen.values())
small = Path("/tmp/peak-memory-small.png")
Image.fromarray(np.asarray(read_image(path))[:16, :16].copy()).save(small)
setting = codec.settings[len(codec.settings) // 2]
plan = RunPlan(images=[], codecs={codec_name: codec}, metrics=metrics)
for image in (small, path):
    row = measure_job(Job(ImageSource("d", image.name, image), codec_name, OperatingPoint(setting)), codec, metrics, plan).row
    assert row["status"] == "ok", row["error"]
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, row["width"] * row["height"])
"""


def main() -> None:
    image, cases = sys.argv[1], sys.argv[2:] or ["jpeg:psnr", "jpeg:psnr,ms_ssim", "webp:psnr"]
    for case in cases:
        codec, metrics = case.split(":")
        output = subprocess.run([sys.executable, "-c", CASE, codec, metrics, image], capture_output=True, text=True, check=True).stdout
        (base, _), (peak, pixels) = [tuple(map(int, line.split())) for line in output.split("\n") if line]
        print(f"{codec} + {metrics}: {(peak - base) / pixels:.0f} bytes/pixel ({(peak - base) / 2**30:.2f} GiB over {pixels / 1e6:.1f} MP)")


if __name__ == "__main__":
    main()
