"""Load on the study server: 50 simulated raters at once, 40 answers each, over real HTTP.

A ``bench study serve`` process serves a small study (benchmarks/study_common.py); 50 raters of
``bench.study.simulate`` post their answers concurrently (httpx, asyncio, one connection each).
Printed: answers acknowledged, answers in SQLite afterwards (none lost, none counted twice) and the
p50 / p99 / max latency of an answer post (from sending it to reading the acknowledgement, which
comes only after the commit). Goal (issue 31): p99 under 50 ms on the 2-core development machine.

    PYTHONPATH=. python benchmarks/study_load.py [--raters 50] [--answers 40]
"""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
from pathlib import Path

import numpy as np

from study_common import served, small_study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=50)
    parser.add_argument("--answers", type=int, default=40)
    args = parser.parse_args()

    from bench.study.simulate import simulate_async
    from bench.study.store import ANSWERS_DB

    with tempfile.TemporaryDirectory() as folder:
        study = small_study(Path(folder), images=4)
        slots = len(study.sequence(0))
        assert slots >= args.answers, f"the study has {slots} slots per rater, fewer than --answers"
        with served(study.path) as url:
            done = asyncio.run(simulate_async(study.path, url, args.raters, "psnr", answers_per_rater=args.answers))
        with sqlite3.connect(study.path / ANSWERS_DB) as db:
            stored, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT rater || '/' || slot) FROM answers").fetchone()
    expected = args.raters * args.answers
    latency = np.array(done.latencies) * 1000
    print(f"{args.raters} raters x {args.answers} answers = {expected} posts; acknowledged {done.stored}, "
          f"duplicates {done.duplicates}, failed {len(done.failed)}")
    print(f"in SQLite: {stored} rows, {distinct} distinct (rater, slot); lost {expected - stored}, counted twice {stored - distinct}")
    print(f"answer latency: p50 {np.percentile(latency, 50):.1f} ms, p99 {np.percentile(latency, 99):.1f} ms, "
          f"max {latency.max():.1f} ms (goal: p99 < 50 ms)")


if __name__ == "__main__":
    main()
