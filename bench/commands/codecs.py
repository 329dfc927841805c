"""``bench codecs``: every registered codec, whether it can run here, its library and grid."""
from __future__ import annotations

import argparse
from typing import Any

from bench.commands.options import add_device_argument, add_part_flags, part_options


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.commands import HelpFormatter

    parser = subparsers.add_parser(
        "codecs", help="list codecs, their settings grids and libraries", formatter_class=HelpFormatter,
        description="List every registered codec: whether it can run on this machine, the library and version behind it, and its default settings grid.",
    )
    parser.add_argument(
        "--complexity", action="store_true",
        help="also measure each available learned codec at each setting on a 256x192 sample image: parameters "
        "of the encoder and decoder side, kMAC per pixel, peak memory, coding time (docs/complexity.md)",
    )
    from bench.codecs.registry import CODECS

    add_device_argument(parser)
    add_part_flags(parser, CODECS)
    parser.set_defaults(func=codecs_command)


def codecs_command(args: argparse.Namespace) -> int:
    from bench.api import reason_gist
    from bench.codecs.registry import CODECS

    codecs = CODECS.parts(part_options(args, CODECS))
    width = max(len(name) for name in codecs) + 1
    measured: list[tuple[str, Any]] = []
    unavailable: dict[str, list[tuple[str, str]]] = {}
    for name, codec in codecs.items():
        problem = CODECS.unavailable(name, codec)
        if problem:
            reason = problem.removeprefix(f"{name}: ")
            unavailable.setdefault(reason_gist(reason), []).append((name, reason))
            continue
        print(f"{name:<{width}} {codec.library} {codec.version()}")
        if codec.description:
            print(f"{'':<{width}} {codec.description}")
        print(f"{'':<{width}} settings: {codec.describe_settings() or '-'}")
        if args.complexity:
            measured.append((name, codec))
    for members in unavailable.values():
        names = ", ".join(name for name, _ in members)
        first, reason = members[0]
        if len(members) == 1:
            print(f"UNAVAILABLE: {first}: {reason}")
        else:
            print(f"UNAVAILABLE ({len(members)} codecs): {names}")
            print(f"{'':<4}{first}: {reason}")
    if measured:
        print_complexity(measured, args.device)
    return 0


def print_complexity(codecs: list[tuple[str, Any]], device: str) -> None:
    """The complexity table of the learned codecs among ``codecs``, on the sample image kodim23-crop."""
    from bench import resources
    from bench.commands.run import format_complexity
    from bench.core.complexity import complexity_rows
    from bench.device import resolve_device
    from bench.core.points import OperatingPoint

    image = resources.DATA_DIR / "sample" / "kodim23-crop.png"
    chosen = dict(codecs)
    points = {name: [OperatingPoint(setting) for setting in codec.settings] for name, codec in chosen.items()}
    rows = complexity_rows(chosen, points, [image], resolve_device(device))
    if rows:
        import pandas as pd

        print(f"complexity on {image.name} (256x192, {resolve_device(device)}):")
        print(format_complexity(pd.DataFrame.from_records(rows)))
