"""``bench datasets``: list the catalogue; ``bench datasets fetch NAME`` downloads and verifies."""
from __future__ import annotations

import argparse
from pathlib import Path

from bench.constants import CACHE_DIR_ENV, DATA_DIR_ENV


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.commands import HelpFormatter

    parser = subparsers.add_parser(
        "datasets", help="list datasets, or fetch one", formatter_class=HelpFormatter,
        description="List the datasets of datasets.yaml and where each would be read from, or download one.",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help=f"folder with local copies (default: ${DATA_DIR_ENV})")
    parser.add_argument("--cache-dir", type=Path, default=None, help=f"download cache (default: ${CACHE_DIR_ENV} or ~/.cache/codec-bench)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    fetch = actions.add_parser("fetch", help="download a dataset into the cache and verify it", formatter_class=HelpFormatter)
    fetch.add_argument("name", help="dataset name")
    # SUPPRESS: `bench datasets --cache-dir X fetch NAME` keeps X.
    fetch.add_argument("--cache-dir", type=Path, default=argparse.SUPPRESS, help=f"download cache (default: ${CACHE_DIR_ENV} or ~/.cache/codec-bench)")
    parser.set_defaults(func=datasets_command)


def datasets_command(args: argparse.Namespace) -> int:
    from bench import datasets

    if args.action == "fetch":
        folder = datasets.fetch(args.name, cache_dir=args.cache_dir)
        print(f"{args.name}: {len(datasets.list_images(folder))} images verified in {folder}")
        return 0
    catalog = datasets.load_catalog()
    data_dir = args.data_dir or datasets.os.environ.get(datasets.DATA_DIR_ENV)
    cache = Path(args.cache_dir or datasets.default_cache_dir()) / "datasets"
    for name, dataset in catalog.items():
        if data_dir and (Path(data_dir) / dataset.local_dir).is_dir():
            where = f"local copy {Path(data_dir) / dataset.local_dir}"
        elif (cache / name).is_dir():
            where = f"cached in {cache / name}"
        else:
            where = "not downloaded (bench datasets fetch " + name + ")"
        count = f"{len(dataset.files)} files" if dataset.files else "file list from the archive"
        print(f"{name:<30} {dataset.role:<10} {count:<26} {where}")
        print(f"{'':<30} {dataset.description}")
    return 0
