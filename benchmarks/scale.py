"""How `bench run` and `bench report` scale with the number of rows: wall time, peak memory, and
the harness's cost per row against a plain loop of the same library calls.

1. For each size (default 1k, 10k and 100k rows): synthetic 32x32 PNGs made here (smooth
   gradients with a little seeded noise, so that every codec curve is plausible and the
   suspicious-row pass has nothing to flag), ``bench run --codecs jpeg`` at 8 settings
   (rows = images x 8) with ``--metrics psnr --jobs 1`` into a fresh run folder, as a fresh
   process; then a plain loop of the same calls on the same images (Pillow's JPEG encoder with
   the codec's options, Pillow's decoder, skimage's PSNR), also a fresh process. Each process's
   peak RSS comes from ``os.wait4`` on it alone.
2. A run folder of 1M synthetic rows (default; ``--million 0`` skips it), written through the
   real store (``ResultStore.write``, 1,000 rows per transaction, rows shaped like the 1k run's
   first row) and exported (``RunDir.write_results``), then ``bench report`` on it: time, peak
   RSS and the report's size.

    python benchmarks/scale.py [--sizes 1000,10000,100000] [--million 1000000] [--keep DIR]

Targets (issue 36): peak RSS at 100k within 1.5x of 1k; per-row overhead within 2 ms of the
plain loop; wall time at 100k within 1.2x of 100 x the 1k time; the 1M report in minutes.
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

REPO = Path(__file__).resolve().parents[1]
SETTINGS = (5, 15, 25, 35, 50, 65, 80, 95)
SIDE = 32

PLAIN_LOOP = textwrap.dedent(
    """
    import io, sys
    from pathlib import Path
    import numpy as np
    from PIL import Image
    from skimage.metrics import peak_signal_noise_ratio

    for path in sorted(Path(sys.argv[1]).glob("*.png")):
        reference = np.asarray(Image.open(path).convert("RGB"))
        for quality in SETTINGS:
            buffer = io.BytesIO()
            Image.fromarray(reference).save(buffer, format="JPEG", quality=quality, subsampling="4:2:0", optimize=True)
            decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
            peak_signal_noise_ratio(reference, decoded, data_range=255)
    """
).replace("SETTINGS", repr(SETTINGS))

#: The 1M-row folder's writer, run as its own process (its peak RSS is the store's and the export's).
WRITE_MILLION = textwrap.dedent(
    """
    import json, math, sys, time
    from bench.core.rows import Measured
    from bench.core.rundir import RunDir
    from bench.metrics.psnr import PSNR

    template_dir, out, rows = RunDir(sys.argv[1]), RunDir(sys.argv[2]), int(sys.argv[3])
    with template_dir.open_store() as store:
        template = next(store.records())
    out.create()
    codecs, points = ("jpeg", "webp"), (5, 15, 25, 35)
    images = rows // (len(codecs) * len(points))
    started = time.perf_counter()
    with out.open_store() as store:
        batch = []
        for index in range(images):
            image = f"synthetic{index:07d}.png"
            shift = (index % 97) / 97  # each image its own plausible curve
            for codec in codecs:
                for rank, setting in enumerate(points):
                    bpp = (0.3 + 0.4 * rank + 0.1 * shift) * (1.2 if codec == "jpeg" else 1.0)
                    row = dict(template.row, image=image, codec=codec, point=str(setting), setting=setting,
                               bytes=int(bpp * 32 * 32 / 8), bpp=bpp, psnr=24 + 6 * math.log2(bpp) + 2 * shift,
                               recon_path=out.recon_relpath("synthetic", codec, str(setting), image), dataset="synthetic")
                    batch.append(Measured(row, signatures=template.signatures))
            if len(batch) >= 1000:
                store.write(batch)
                batch = []
        store.write(batch)
        stored = time.perf_counter()
        count = out.write_results(store, out.write_metric_columns(PSNR.columns))
        out.write_metadata(store.invocations() or [{"started": "synthetic", "command_line": "benchmarks/scale.py"}])
    print(json.dumps({"rows": count, "store_s": stored - started, "export_s": time.perf_counter() - stored}))
    """
)


def make_images(folder: Path, count: int) -> None:
    """``count`` smooth 32x32 PNGs with seeded noise (a gradient of a random direction and colour)."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(36)
    ramp = np.linspace(0.0, 1.0, SIDE)
    for index in range(count):
        angle, colour = rng.uniform(0, np.pi), rng.uniform(40, 215, size=3)
        field = np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None]
        image = colour + 60 * (field[..., None] - 0.5) + rng.normal(0, 4, size=(SIDE, SIDE, 3))
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / f"img{index:06d}.png")


def measured(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of this process alone (``os.wait4``), and its stdout."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        stdout.seek(0), stderr.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command[:4])} failed:\n{stderr.read()[-2000:]}")
        return seconds, usage.ru_maxrss / 1024, stdout.read()


def bench_run(images: Path, out: Path) -> tuple[float, float]:
    seconds, rss, _ = measured([sys.executable, "-m", "bench", "run", "--codecs", "jpeg", "--images", str(images),
                                "--settings", "jpeg=" + ",".join(map(str, SETTINGS)), "--metrics", "psnr",
                                "--jobs", "1", "--out", str(out)])
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="rows per run, comma-separated (multiples of 8)")
    parser.add_argument("--million", type=int, default=1_000_000, help="rows of the synthetic run folder for `bench report` (0: skip)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the images and run folders here")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="codec-bench-scale-"))
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (other processes distort the figures)")
    print(f"work: {SIDE}x{SIDE} synthetic PNGs x JPEG at {len(SETTINGS)} settings, PSNR, --jobs 1; whole processes")
    print(f"{'rows':>8} {'bench s':>9} {'RSS MB':>7} {'plain s':>8} {'RSS MB':>7} {'ms/row':>7} {'plain ms/row':>12} {'overhead ms/row':>15}")
    results = {}
    for size in sizes:
        images = scratch / f"images-{size}"
        make_images(images, size // len(SETTINGS))
        run_seconds, run_rss = bench_run(images, scratch / f"run-{size}")
        plain_seconds, plain_rss, _ = measured([sys.executable, "-c", PLAIN_LOOP, str(images)])
        results[size] = (run_seconds, run_rss, plain_seconds)
        print(f"{size:>8} {run_seconds:>9.1f} {run_rss:>7.0f} {plain_seconds:>8.1f} {plain_rss:>7.0f} "
              f"{1000 * run_seconds / size:>7.2f} {1000 * plain_seconds / size:>12.2f} "
              f"{1000 * (run_seconds - plain_seconds) / size:>15.2f}", flush=True)
    for small, large in zip(sizes, sizes[1:]):
        (run_small, _, plain_small), (run_large, _, plain_large) = results[small], results[large]
        print(f"from {small} to {large} rows, each added row: bench {1000 * (run_large - run_small) / (large - small):.2f} ms, "
              f"plain loop {1000 * (plain_large - plain_small) / (large - small):.2f} ms, overhead "
              f"{1000 * (run_large - run_small - plain_large + plain_small) / (large - small):+.2f} ms (start-up excluded)")
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        print(f"{large} rows against {small}: peak RSS x{results[large][1] / results[small][1]:.2f}, "
              f"wall time x{results[large][0] / results[small][0]:.1f} for x{large / small:.0f} the rows")
    if args.million:
        template = scratch / f"run-{sizes[0]}"
        folder = scratch / f"run-{args.million}"
        seconds, rss, stdout = measured([sys.executable, "-c", WRITE_MILLION, str(template), str(folder), str(args.million)])
        print(f"{args.million} synthetic rows through the store and exported: {seconds:.0f} s ({stdout.strip()}), peak RSS {rss:.0f} MB")
        report = folder / "report.html"
        seconds, rss, _ = measured([sys.executable, "-m", "bench", "report", str(folder), "-o", str(report), "--anchor", "jpeg"])
        print(f"bench report on them: {seconds:.0f} s, peak RSS {rss:.0f} MB, report {report.stat().st_size / 1e6:.1f} MB")
    if args.keep is None:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
