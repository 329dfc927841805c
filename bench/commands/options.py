"""The flags of the parts a command builds: the options each codec and metric declares on itself
(see :mod:`bench.options`), collected from the registries, and the run's ``--device``."""
from __future__ import annotations

import argparse
from typing import Any

from bench.device import AUTO
from bench.options import add_option_flags, options_from_args
from bench.plugins import Registry


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device", default=AUTO,
        help="torch device for learned codecs and network metrics: auto (cuda when available, else cpu), cpu, cuda, cuda:1",
    )


def add_part_flags(parser: argparse.ArgumentParser, registry: Registry) -> None:
    """A group of the flags that the parts of ``registry`` declare."""
    group = parser.add_argument_group(f"{registry.kind} options (each declared by its {registry.kind})")
    add_option_flags(group, registry.options_types())


def part_options(args: argparse.Namespace, registry: Registry) -> list[Any]:
    """The options objects of ``registry``'s parts, from the flags :func:`add_part_flags` added."""
    return options_from_args(args, registry.options_types())
