"""Registries of named parts (codecs, metrics): loading what they name, and choosing among them."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from bench.errors import BenchError, one_line


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


@dataclass
class Selection:
    """What :meth:`Registry.select` gives: the parts chosen, by name, and for ``all`` the reason
    each registered part that cannot run here was left out."""

    chosen: dict[str, Any]
    unavailable: dict[str, str]


class Registry:
    """Where the names of one kind of part (codecs, metrics) come from, and how they are chosen.

    Two sources, in this order (a later one may not shadow an earlier name): the built-ins
    (``"module:attribute"`` targets) and the installed entry points of ``group``. ``build(target,
    options)`` turns a loaded target into its parts by name (a codec class may register several,
    one per checkpoint family); ``check(part)`` raises with a one-line reason when the part cannot
    run here. A plug-in that fails to load or build is kept as a :class:`BrokenPlugin`: listed as
    unavailable, never fatal unless chosen by name.
    """

    def __init__(self, kind: str, builtins: dict[str, str], group: str,
                 build: Callable[[Any, list[Any]], dict[str, Any]], check: Callable[[Any], None],
                 named_sets: Mapping[str, Sequence[str]] | None = None) -> None:
        self.kind, self.builtins, self.group, self.build, self.check = kind, builtins, group, build, check
        #: Names that stand for several parts in :meth:`select` (``ctc``: JPEG AI's metrics).
        self.named_sets = dict(named_sets or {})

    def targets(self) -> dict[str, Any]:
        """Every registered name and its loaded target, unbuilt: the built-ins, then the entry
        points (one that failed to load as :class:`BrokenPlugin`)."""
        targets = {name: load_object(target) for name, target in self.builtins.items()}
        for name, target in entry_point_objects(self.group):
            targets.setdefault(name, target)
        return targets

    def parts(self, options: Iterable[Any] = ()) -> dict[str, Any]:
        """Every registered part by name, available or not (a broken plug-in as :class:`BrokenPlugin`)."""
        options = list(options)
        parts: dict[str, Any] = {}
        for target in self.builtins.values():
            for name, part in self.build(load_object(target), options).items():
                parts.setdefault(name, part)
        for name, target in entry_point_objects(self.group):
            if isinstance(target, BrokenPlugin):
                parts.setdefault(name, target)
                continue
            try:
                found = self.build(target, options)
            except Exception as exc:  # noqa: BLE001 - a broken plug-in must not break bench
                parts.setdefault(name, BrokenPlugin(name, f"cannot create it ({one_line(exc)})"))
                continue
            # A plug-in giving one part is known by its entry point's name.
            for part_name, part in ({name: next(iter(found.values()))} if len(found) == 1 else found).items():
                parts.setdefault(part_name, part)
        return parts

    def unavailable(self, name: str, part: Any) -> str | None:
        """Why ``part`` cannot run here (one line, starting with its name), or None."""
        if isinstance(part, BrokenPlugin):
            return f"{name}: {part.problem}"
        try:
            self.check(part)
        except Exception as exc:  # noqa: BLE001 - any failure means "not here", said in one line
            return str(exc)
        return None

    def expand(self, names: Sequence[str]) -> list[str]:
        """``names`` with each of :attr:`named_sets` replaced by its members, in order, each name once."""
        expanded: list[str] = []
        for name in names:
            expanded.extend(member for member in self.named_sets.get(name, (name,)) if member not in expanded)
        return expanded

    def select(self, names: str | Sequence[str], options: Iterable[Any] = ()) -> Selection:
        """The parts named (a comma-separated string or a list), checked; ``all``: every part that
        can run here, and why each other one cannot; a name of :attr:`named_sets`: its members. An
        unknown name, or a named part that cannot run, raises :class:`UnknownPart` in one line."""
        registered = self.parts(options)
        wanted = self.expand([name.strip() for name in (names.split(",") if isinstance(names, str) else names) if name.strip()])
        if wanted == [ALL]:
            chosen, unavailable = {}, {}
            for name, part in registered.items():
                reason = self.unavailable(name, part)
                if reason:
                    unavailable[name] = reason
                else:
                    chosen[name] = part
            return Selection(chosen, unavailable)
        unknown = [name for name in wanted if name not in registered]
        if unknown:
            raise UnknownPart(f"unknown {self.kind} {', '.join(unknown)}; known {self.kind}s: {', '.join(sorted(registered))}")
        for name in wanted:
            reason = self.unavailable(name, registered[name])
            if reason:
                raise UnknownPart(reason if not isinstance(registered[name], BrokenPlugin)
                                  else f"{self.kind} plug-in unavailable: {reason}")
        return Selection({name: registered[name] for name in wanted}, {})


class UnknownPart(BenchError):
    """A name that no registry knows, or a chosen part that cannot run here."""


#: The name that selects every part that can run here.
ALL = "all"
