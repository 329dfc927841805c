"""Speed of `bench run` on a local Dask cluster, against one worker and against the local process pool.

The same work (Kodak x JPEG, WebP, JPEG 2000 at their default grids, PSNR + MS-SSIM) runs
four ways, each into a fresh run folder, and the wall times are printed:

1. a Dask cluster of 1 worker (one thread), 2. a Dask cluster of 2 workers (one thread each),
3. the local process pool with 1 job, 4. the local process pool with 2 jobs.

"One thread" holds for torch too (MS-SSIM): by default a lone worker on a 2-core host would give
its tasks both cores, and then a second worker could add little. The local pool shares the cores
the same way by itself (``cores // jobs`` torch threads per job), so (3) uses both.

Goals (issue 13): (2) at least 1.7x faster than (1) on 2 cores; (2) at most 10 % slower than (4).
The clusters are real worker processes on 127.0.0.1 (``distributed.LocalCluster``). Run it with
the machine otherwise idle, and more than once: on a shared virtual machine the figures of one
configuration vary by up to 10 % from run to run.

    PYTHONPATH=. python benchmarks/cluster_speed.py [--images 24]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

CODECS = ("jpeg", "webp", "jpeg2000")


def plan_for(images: int):
    from bench import datasets
    from bench.codecs.registry import all_codecs
    from bench.metrics.registry import select_metrics
    from bench.core.plan import ImageSource, RunPlan

    paths = datasets.resolve("kodak")[:images]
    codecs = {name: codec for name, codec in all_codecs().items() if name in CODECS}
    return RunPlan(images=[ImageSource("kodak", path.name, path) for path in paths], codecs=codecs,
                   metrics=list(select_metrics("psnr,ms_ssim").chosen.values()))


def timed(images: int, **how) -> float:
    from bench.core.benchmark import run_benchmark

    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        run_benchmark(plan_for(images), Path(scratch) / "run", **how)
        return time.perf_counter() - started


def on_cluster(images: int, workers: int) -> float:
    from distributed import Client, LocalCluster

    from bench.core.cluster import DaskBackend, check_workers

    local = {"n_workers": workers, "threads_per_worker": 1, "processes": True, "host": "127.0.0.1", "dashboard_address": None}
    with LocalCluster(**local) as cluster:
        with Client(cluster) as client:
            hosts = check_workers(client, ["pillow", "pytorch-msssim"])
            return timed(images, backend=DaskBackend(client, workers_per_host=hosts, threads=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=24)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    one_worker, two_workers = on_cluster(args.images, 1), on_cluster(args.images, 2)
    one_job, two_jobs = timed(args.images, jobs=1), timed(args.images, jobs=2)
    print(f"load average before: {load:.2f} (other processes distort the figures)")
    print(f"work: {args.images} Kodak images x {', '.join(CODECS)} (default grids), PSNR + MS-SSIM; {os.cpu_count()} cores")
    print(f"Dask, 1 worker:       {one_worker:7.2f} s")
    print(f"Dask, 2 workers:      {two_workers:7.2f} s   speed-up {one_worker / two_workers:.2f}x over 1 worker")
    print(f"local pool, 1 job:    {one_job:7.2f} s   (torch on both cores)")
    print(f"local pool, 2 jobs:   {two_jobs:7.2f} s   Dask with 2 workers is {100 * (two_workers / two_jobs - 1):+.1f} % against it")


if __name__ == "__main__":
    main()
