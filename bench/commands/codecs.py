"""``bench codecs``: every registered codec, whether it can run here, its library and grid."""
from __future__ import annotations

import argparse

from bench.commands.options import add_codec_arguments, add_device_argument, codec_options


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.cli import HelpFormatter

    parser = subparsers.add_parser(
        "codecs", help="list codecs, their settings grids and libraries", formatter_class=HelpFormatter,
        description="List every registered codec: whether it can run on this machine, the library and version behind it, and its default settings grid.",
    )
    add_codec_arguments(parser)
    add_device_argument(parser)
    parser.set_defaults(func=codecs_command)


def codecs_command(args: argparse.Namespace) -> int:
    from bench.codecs.registry import all_codecs
    from bench.commands.run import reason_gist

    codecs = all_codecs(codec_options(args, args.device))
    width = max(len(name) for name in codecs) + 1
    unavailable: dict[str, list[tuple[str, str]]] = {}
    for name, codec in codecs.items():
        try:
            codec.check_available()
        except Exception as exc:  # noqa: BLE001 - report any import failure as "unavailable"
            reason = str(exc).removeprefix(f"{name}: ")
            unavailable.setdefault(reason_gist(reason), []).append((name, reason))
            continue
        print(f"{name:<{width}} {codec.library} {codec.version()}")
        if codec.description:
            print(f"{'':<{width}} {codec.description}")
        print(f"{'':<{width}} settings: {codec.describe_settings() or '-'}")
    for members in unavailable.values():
        names = ", ".join(name for name, _ in members)
        first, reason = members[0]
        if len(members) == 1:
            print(f"UNAVAILABLE: {first}: {reason}")
        else:
            print(f"UNAVAILABLE ({len(members)} codecs): {names}")
            print(f"{'':<4}{first}: {reason}")
    return 0
