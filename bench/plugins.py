"""Loading the objects that registries name: "module:attribute" strings and entry points."""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Iterator


def load_object(target: str) -> Any:
    """``"package.module:Name"`` -> the object ``Name`` of that module."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def entry_point_objects(group: str) -> Iterator[tuple[str, Any, str | None]]:
    """(name, loaded object, None) for each installed entry point of ``group``.

    An entry point that fails to load (its package or a library it imports is missing)
    gives (name, None, one-line reason) instead of stopping every command.
    """
    for entry_point in entry_points(group=group):
        try:
            yield entry_point.name, entry_point.load(), None
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must not break bench
            yield entry_point.name, None, f"cannot load {entry_point.value} ({type(exc).__name__}: {exc})"
