"""Loading the objects that registries name: "module:attribute" strings and entry points."""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Iterator


def load_object(target: str) -> Any:
    """``"package.module:Name"`` -> the object ``Name`` of that module."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def entry_point_objects(group: str) -> Iterator[tuple[str, Any]]:
    """(name, loaded object) for each installed entry point of ``group``."""
    for entry_point in entry_points(group=group):
        yield entry_point.name, entry_point.load()
