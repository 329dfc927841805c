"""Options that a codec or metric declares on itself, and the command-line flags made from them.

A part that takes options names a frozen dataclass as its ``Options``; each field made with
:func:`option` carries its flag and help text. ``bench run`` (and every command that builds parts)
asks the registries for their parts' ``Options`` classes, adds one flag per field
(:func:`add_option_flags`) and hands each part an object of its own class
(:func:`options_from_args`). So a codec with one option is one file plus one registration line,
and its flag appears in ``bench run --help`` by itself::

    @dataclass(frozen=True)
    class ToyOptions:
        strength: int = option(3, flag="--toy-strength", help="how hard the toy codec works")

    class Toy(Codec):
        name, Options = "toy", ToyOptions

Two parts may declare the same flag (LPIPS, FID and NIQE read one ``--weights-dir``): it is added
once, with the first declaration's help, and every such field receives its value. The torch
device is not a part's option: the run chooses it (``--device``) and gives it to each part with
``use_device``.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence


@dataclass(frozen=True)
class Flag:
    """The command-line form of one option field."""

    #: The flag, e.g. ``--lpips-net``.
    name: str
    help: str
    #: Converts the typed text (e.g. ``Path``); None keeps the text.
    type: Callable[[str], Any] | None = None
    metavar: str | None = None
    choices: Sequence[str] | None = None
    #: The flag may be given several times; the field holds a tuple of the values.
    repeatable: bool = False
    #: A switch without a value (``store_true``); the field is a bool defaulting to False.
    switch: bool = False

    @property
    def dest(self) -> str:
        return self.name.removeprefix("--").replace("-", "_")


def option(default: Any, *, flag: str, help: str, type: Callable[[str], Any] | None = None, metavar: str | None = None,
           choices: Sequence[str] | None = None, repeatable: bool = False, switch: bool = False) -> Any:
    """A dataclass field of an ``Options`` class, with the flag that sets it (see the module docstring)."""
    return dataclasses.field(default=default, metadata={"flag": Flag(flag, help, type, metavar, choices, repeatable, switch)})


def option_flags(options_type: type) -> Iterator[tuple[dataclasses.Field, Flag]]:
    """(field, flag) for each field of ``options_type`` that declares a flag."""
    for field in dataclasses.fields(options_type):
        if "flag" in field.metadata:
            yield field, field.metadata["flag"]


def add_option_flags(parser: argparse.ArgumentParser, options_types: Iterable[type]) -> None:
    """One flag per declared option field of ``options_types``, each flag once, its default shown."""
    added: set[str] = set()
    for options_type in options_types:
        for field, flag in option_flags(options_type):
            if flag.name in added:
                continue
            added.add(flag.name)
            if flag.switch:
                parser.add_argument(flag.name, action="store_true", help=flag.help)
                continue
            default_text = "" if field.default in (None, ()) else f" (default: {field.default})"
            parser.add_argument(
                flag.name, type=flag.type, metavar=flag.metavar, choices=flag.choices,
                action="append" if flag.repeatable else "store", default=[] if flag.repeatable else None,
                help=flag.help + default_text,
            )


def options_from_args(args: argparse.Namespace, options_types: Iterable[type]) -> list[Any]:
    """An object of each of ``options_types`` from the parsed flags (a flag not given keeps the field's default)."""
    built = []
    for options_type in options_types:
        values = {}
        for field, flag in option_flags(options_type):
            value = getattr(args, flag.dest)
            if flag.repeatable:
                values[field.name] = tuple(value)
            elif value is not None and value is not False:
                values[field.name] = value
        built.append(options_type(**values))
    return built
