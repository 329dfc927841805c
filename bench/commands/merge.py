"""``bench merge OUT RUN...``: shard run folders (``bench run --shard I/N``) into one run folder."""
from __future__ import annotations

import argparse
from pathlib import Path

from bench.commands.options import add_device_argument, add_part_flags, part_options
from bench.constants import CACHE_DIR_ENV


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.commands import HelpFormatter

    parser = subparsers.add_parser(
        "merge", help="merge shard run folders into one", formatter_class=HelpFormatter,
        description="Merge run folders (the shards of `bench run --shard I/N`) into OUT, whose tables then equal an "
        "unsharded run's: rows and features are copied, FID/KID computed again over the merged rows. Folders measured "
        "under different metric settings are refused; a row found twice is kept once (an ok row over an error row).\n\n"
        "example:\n  bench merge runs/kodak runs/kodak-shard-0 runs/kodak-shard-1 runs/kodak-shard-2",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="the merged run folder (created)")
    parser.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run folders to merge")
    parser.add_argument("--cache-dir", type=Path, default=None, help=f"cache of the originals' FID/KID features (default: ${CACHE_DIR_ENV} or ~/.cache/codec-bench)")
    from bench.metrics.registry import METRICS

    add_device_argument(parser)
    add_part_flags(parser, METRICS)
    parser.set_defaults(func=merge_command)


def merge_command(args: argparse.Namespace) -> int:
    from bench.core.merge import merge_runs
    from bench.device import resolve_device
    from bench.metrics.registry import METRICS

    result = merge_runs(args.out, args.runs, args.cache_dir, part_options(args, METRICS), resolve_device(args.device))
    print(f"bench: merged {len(args.runs)} run folders into {args.out}: {result.rows} rows"
          f"{f', {result.duplicates} row keys found twice and kept once' if result.duplicates else ''}")
    return 0
