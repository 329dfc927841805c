"""Loading the objects that registries name: "module:attribute" strings and entry points."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Iterable, Iterator

from bench.errors import one_line


def load_object(target: str) -> Any:
    """``"package.module:Name"`` -> the object ``Name`` of that module."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class BrokenPlugin:
    """An installed plug-in that failed to load or to build: its name and a one-line reason."""

    name: str
    problem: str


def entry_point_objects(group: str) -> Iterator[tuple[str, Any]]:
    """(name, loaded object) for each installed entry point of ``group``.

    An entry point that fails to load (its package or a library it imports is missing)
    gives a :class:`BrokenPlugin` as its object instead of stopping every command.
    """
    for entry_point in entry_points(group=group):
        try:
            yield entry_point.name, entry_point.load()
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must not break bench
            yield entry_point.name, BrokenPlugin(entry_point.name, f"cannot load {entry_point.value} ({one_line(exc)})")


def options_for(target: type, options: Iterable[Any]) -> Any:
    """The object among ``options`` of ``target.Options`` (its dataclass of options), else its defaults.

    ``None`` for a class that takes no options.
    """
    options_type = getattr(target, "Options", None)
    if options_type is None:
        return None
    for candidate in options:
        if type(candidate) is options_type:
            return candidate
    return options_type()
