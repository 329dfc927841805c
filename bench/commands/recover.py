"""``bench recover RUN_DIR``: rebuild a damaged ``results.sqlite`` from what it still reads and from the exports."""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.cli import HelpFormatter

    parser = subparsers.add_parser(
        "recover", help="rebuild a damaged results database", formatter_class=HelpFormatter,
        description="Rebuild RUN_DIR/results.sqlite when it is damaged ('database disk image is malformed'): every row it "
        "still reads is kept as stored, and every other row of the exported results.parquet (or results.csv) is added "
        "back. The damaged file is kept beside it as results.sqlite.damaged-<time>. Rows taken from the export have "
        "no metric signatures: the next `bench run` measures them again.\n\n"
        "example:\n  bench recover runs/kodak && bench run ... --out runs/kodak",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the run folder of the damaged database")
    parser.set_defaults(func=recover_command)


def recover_command(args: argparse.Namespace) -> int:
    from bench.core.rows import Measured
    from bench.core.rundir import RESULTS_DB, RunDir, RunDirError
    from bench.core.store import rebuild, salvage

    run_dir = RunDir(args.run_dir)
    database = run_dir.file(RESULTS_DB)
    if not database.is_file():
        raise RunDirError(f"{database}: no results database to recover; pass the folder `bench run --out` wrote")
    records, features, invocations = salvage(database)
    kept = {record.key for record in records}
    try:
        exported = run_dir.read_results().to_dict("records")
    except RunDirError:
        exported = []
    added = [Measured({k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}) for row in exported]
    added = [record for record in added if record.key not in kept]
    damaged = database.with_name(f"{RESULTS_DB}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    database.rename(damaged)
    for suffix in ("-wal", "-shm"):
        side = database.with_name(database.name + suffix)
        if side.exists():
            side.rename(damaged.with_name(damaged.name + suffix))
    rebuild(database, records + added, features, invocations)
    print(f"bench: rebuilt {database}: {len(records)} rows read from the damaged database, {len(added)} from the export "
          f"(measured again by the next run); the damaged file is {damaged}")
    return 0
