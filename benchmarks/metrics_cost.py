"""Metric seconds per row of ``bench run --metrics all``: this tree against a baseline commit.

The fixed workload: the first ``--images`` Kodak images x jpeg and webp (settings 25, 50, 75)
and hific-cpu-dense (lo, mi, hi), every metric ``--metrics`` selects, one in-process run (the
``InProcess`` backend, torch with ``--threads`` threads) per tree. The baseline commit (default
d11a4a9, before the metrics prepared their reference side) is checked out into a temporary
``git worktree`` and run in a subprocess with ``PYTHONPATH`` pointing at it; this tree likewise.
Each tree runs ``--repeats`` times, alternating with the other, and the fastest run counts.

A row's metric seconds are the time spent, inside the run's tasks, in each metric's methods
(``measure``, ``prepare_reference``, ``measure_prepared``, ``features``, ``features_of_many``;
FID and KID share their features, which count under the first of them): the reference features
of FID/KID, computed once per image after the rows, are not a row's. Printed: seconds per row
per metric and in all, for both trees, their ratio, the whole run's wall time (codec work and
the set metrics included), and every metric column of the two runs compared row by row (and
set by set for FID/KID): the largest absolute and relative difference against the tolerance
docs/metrics.md gives ("What a row's metrics cost").

    PYTHONPATH=. python benchmarks/metrics_cost.py --data-dir ../shared/datasets --weights-dir ../shared/weights
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"jpeg": [25, 50, 75], "webp": [25, 50, 75], "hific-cpu-dense": ["lo", "mi", "hi"]}
#: Largest relative difference allowed per metric column (docs/metrics.md); 0: equal.
TOLERANCE = {"fid": 1e-6, "kid_mean": 1e-6, "kid_std": 1e-6}
TIMED = ("measure", "prepare_reference", "measure_prepared", "features", "features_of_many")


def instrument(seconds: dict[str, float]) -> None:
    """Count, per metric name, the seconds spent in the metric methods :data:`TIMED` inside tasks."""
    import bench.core.execution as execution
    import bench.core.measure as measure
    from bench.metrics.registry import metric_classes

    state = {"in_task": False, "depth": 0}

    def timed(method, name):
        def call(self, *args, **kwargs):
            if not state["in_task"] or state["depth"]:
                return method(self, *args, **kwargs)
            state["depth"] += 1
            started = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                seconds[self.name] += time.perf_counter() - started
                state["depth"] -= 1
        return call

    patched = set()
    for metric_class in metric_classes().values():
        for klass in getattr(metric_class, "__mro__", ()):
            for name in TIMED:
                if name in vars(klass) and (klass, name) not in patched:
                    patched.add((klass, name))
                    setattr(klass, name, timed(vars(klass)[name], name))
    task = measure.measure_task

    def measure_task(*args, **kwargs):
        state["in_task"] = True
        try:
            return task(*args, **kwargs)
        finally:
            state["in_task"] = False

    measure.measure_task = execution.measure_task = measure_task


def child(args: argparse.Namespace) -> None:
    """One timed run of this process's ``bench`` (the tree on ``PYTHONPATH``); JSON on stdout."""
    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)
    import bench
    from bench.api import run
    from bench.core.execution import InProcess

    from bench.metrics.base import PER_SET
    from bench.metrics.registry import select_metrics

    seconds: dict[str, float] = defaultdict(float)
    instrument(seconds)
    columns = [column for metric in select_metrics(args.metrics).chosen.values() for column in metric.columns]
    images = sorted((args.data_dir / "kodak").glob("*.png"))[: args.images]
    with tempfile.TemporaryDirectory(prefix="metrics-cost-") as folder:
        started = time.perf_counter()
        result = run(list(SETTINGS), images=images, out=Path(folder) / "run", metrics=args.metrics, settings=SETTINGS,
                     backend=InProcess(row_timeout=None), cache_dir=Path(folder) / "cache", download=False,
                     metadata={}, device="cpu")
        wall = time.perf_counter() - started
        results = pd.DataFrame(result.results)
        distribution = pd.DataFrame(result.distribution)
    print(json.dumps({
        "bench": str(Path(bench.__file__).parent), "wall": wall,
        "columns": [column.name for column in columns if column.per != PER_SET],
        "set_columns": [column.name for column in columns if column.per == PER_SET], "rows": len(results), "seconds": seconds,
        "errors": results.loc[results["status"] != "ok", "error"].tolist() if "status" in results else [],
        "results": results.to_json(orient="records"), "distribution": distribution.to_json(orient="records"),
    }))


def run_tree(tree: Path, args: argparse.Namespace) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--images", str(args.images), "--metrics", args.metrics,
               "--threads", str(args.threads), "--data-dir", str(args.data_dir), "--weights-dir", str(args.weights_dir)]
    env = {**os.environ, "PYTHONPATH": str(tree), "BENCH_WEIGHTS_DIR": str(args.weights_dir), "BENCH_DATA_DIR": str(args.data_dir)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tree)
    if done.returncode != 0:
        sys.exit(f"run in {tree} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(baseline: list[dict], current: list[dict], key: tuple[str, ...], columns: list[str]) -> list[tuple]:
    """(column, rows compared, max abs difference, max relative difference, tolerance, ok) per column."""
    before = {tuple(row[k] for k in key): row for row in baseline}
    after = {tuple(row[k] for k in key): row for row in current}
    lines = []
    for column in columns:
        largest_abs = largest_rel = 0.0
        compared = 0
        mismatch = set(before) != set(after)
        for row_key, row in before.items():
            if row_key not in after or column not in row or column not in after[row_key]:
                mismatch = True
                continue
            old, new = row[column], after[row_key][column]
            if old is None or new is None or (isinstance(old, float) and math.isnan(old)):
                mismatch |= (old is None) != (new is None) or not (new is None or (isinstance(new, float) and math.isnan(new)))
                continue
            compared += 1
            if old != new:
                difference = abs(new - old)
                largest_abs = max(largest_abs, difference)
                largest_rel = max(largest_rel, difference / abs(old) if old else math.inf)
        tolerance = TOLERANCE.get(column, 0.0)
        lines.append((column, compared, largest_abs, largest_rel, tolerance, not mismatch and largest_rel <= tolerance))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="d11a4a9", help="the commit to compare with (default d11a4a9)")
    parser.add_argument("--images", type=int, default=4, help="Kodak images (default 4)")
    parser.add_argument("--metrics", default="all", help="the --metrics value (default all)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2, this machine's cores)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per tree, alternating; the fastest counts (default 1)")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("BENCH_DATA_DIR", "")))
    parser.add_argument("--weights-dir", type=Path, default=Path(os.environ.get("BENCH_WEIGHTS_DIR", "")))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.data_dir, args.weights_dir = args.data_dir.resolve(), args.weights_dir.resolve()
    if args.child:
        return child(args)

    with tempfile.TemporaryDirectory(prefix="metrics-cost-baseline-") as folder:
        worktree = Path(folder) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), args.baseline],
                       check=True, capture_output=True)
        try:
            runs: dict[str, list[dict]] = {"baseline": [], "current": []}
            for _ in range(args.repeats):
                for label, tree in (("baseline", worktree), ("current", ROOT)):
                    runs[label].append(run_tree(tree, args))
                    print(f"{label}: {runs[label][-1]['wall']:.1f} s", file=sys.stderr, flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=False, capture_output=True)
    best = {label: min(found, key=lambda run: sum(run["seconds"].values())) for label, found in runs.items()}
    report(best, args)


def report(best: dict[str, dict], args: argparse.Namespace) -> None:
    baseline, current = best["baseline"], best["current"]
    rows = current["rows"]
    print(f"workload: {args.images} Kodak images x {', '.join(f'{c} {s}' for c, s in SETTINGS.items())} = {rows} rows, "
          f"--metrics {args.metrics}, {args.threads} torch threads, in process; baseline {args.baseline}, fastest of {args.repeats}")
    for label in best:
        if best[label]["errors"]:
            print(f"{label}: {len(best[label]['errors'])} error rows, e.g. {best[label]['errors'][0]}")
    print(f"\n{'metric':14} {'baseline s/row':>15} {'current s/row':>14} {'ratio':>7}")
    for name in sorted(set(baseline["seconds"]) | set(current["seconds"]), key=lambda n: -baseline["seconds"].get(n, 0.0)):
        before, after = baseline["seconds"].get(name, 0.0) / baseline["rows"], current["seconds"].get(name, 0.0) / rows
        print(f"{name:14} {before:15.3f} {after:14.3f} {after / before if before else math.nan:7.2f}")
    before, after = sum(baseline["seconds"].values()) / baseline["rows"], sum(current["seconds"].values()) / rows
    print(f"{'all metrics':14} {before:15.3f} {after:14.3f} {after / before:7.2f}")
    print(f"{'whole run (s)':14} {baseline['wall']:15.1f} {current['wall']:14.1f} {current['wall'] / baseline['wall']:7.2f}")

    key = ("dataset", "image", "codec", "point")
    results = [json.loads(run["results"]) for run in (baseline, current)]
    distribution = [json.loads(run["distribution"]) for run in (baseline, current)]
    set_key = ("dataset", "codec", "point")
    columns, set_columns = current["columns"], current["set_columns"]
    print(f"\n{'column':18} {'compared':>8} {'max abs diff':>13} {'max rel diff':>13} {'tolerance':>10}")
    failures = 0
    for lines in (compare(*results, key, columns), compare(*distribution, set_key, set_columns)):
        for column, compared, largest_abs, largest_rel, tolerance, ok in lines:
            failures += not ok
            print(f"{column:18} {compared:8d} {largest_abs:13.3g} {largest_rel:13.3g} {tolerance:10.0e} {'ok' if ok else 'DIFFERS'}")
    print(f"\n{'every metric column within its tolerance' if not failures else f'{failures} columns differ beyond their tolerance'}")


if __name__ == "__main__":
    main()
