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

    for name, codec in all_codecs(codec_options(args, args.device)).items():
        try:
            codec.check_available()
            state = f"{codec.library} {codec.version()}"
        except Exception as exc:  # noqa: BLE001 - report any import failure as "unavailable"
            state = f"UNAVAILABLE: {exc}"
        print(f"{name:<22} {state}")
        if codec.description:
            print(f"{'':<22} {codec.description}")
        print(f"{'':<22} settings: {codec.describe_settings() or '-'}")
    return 0
