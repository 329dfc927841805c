"""Load on the study server: 50 simulated raters at once, 40 answers each, over real HTTP.

A ``bench study serve`` process serves a small study (benchmarks/study_common.py); 50 raters of
``bench.study.simulate`` post their answers concurrently (aiohttp, asyncio, a session and connection
each, as each rater is a browser of their own, all in this one process). Each rater pauses before
an answer for an exponentially distributed time of mean ``--think-ms`` (default 1000 ms: an answer
a second, faster than people judge images); ``--think-ms 0`` posts back to back, a closed loop
(50 requests always in flight, the client itself sharing the two cores). Figures: docs/study.md. Printed: answers acknowledged, answers
in SQLite afterwards (none lost, none counted twice) and the p50 / p99 / max latency of an answer
post (from sending it to reading the acknowledgement, which comes only after the commit). Goal
(issue 31): p99 under 50 ms on the 2-core development machine.

    PYTHONPATH=. python benchmarks/study_load.py [--raters 50] [--answers 40] [--think-ms 1000]
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
    parser.add_argument("--think-ms", type=float, default=1000.0)
    args = parser.parse_args()

    from bench.study.simulate import simulate_async
    from bench.study.store import ANSWERS_DB

    with tempfile.TemporaryDirectory() as folder:
        study = small_study(Path(folder), images=4)
        slots = len(study.sequence(0))
        assert slots >= args.answers, f"the study has {slots} slots per rater, fewer than --answers"
        with served(study.path) as url:
            done = asyncio.run(simulate_async(study.path, url, args.raters, "psnr", answers_per_rater=args.answers,
                                               think_ms=args.think_ms))
        with sqlite3.connect(study.path / ANSWERS_DB) as db:
            rows = db.execute("SELECT rater, slot FROM answers").fetchall()
    expected = args.raters * args.answers
    latency = np.array(done.latencies) * 1000
    print(f"{args.raters} raters x {args.answers} answers = {expected} posts (think time {args.think_ms:.0f} ms); acknowledged {done.stored}, "
          f"duplicates {done.duplicates}, failed {len(done.failed)}" + (f" (first: {done.failed[0]})" if done.failed else ""))
    lost = set(done.acknowledged) - set(rows)
    print(f"in SQLite: {len(rows)} rows, {len(set(rows))} distinct (rater, slot); acknowledged but missing {len(lost)}, "
          f"counted twice {len(rows) - len(set(rows))}")
    print(f"answer latency: p50 {np.percentile(latency, 50):.1f} ms, p99 {np.percentile(latency, 99):.1f} ms, "
          f"max {latency.max():.1f} ms (goal: p99 < 50 ms)")


if __name__ == "__main__":
    main()
