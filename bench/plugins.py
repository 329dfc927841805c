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
    one per checkpoint family); ``names(target, options)`` says which names that would give without
    building anything (None when only building can tell), so that a run builds only the parts it
    names; ``check(part)`` raises with a one-line reason when the part cannot run here. A plug-in
    that fails to load or build is kept as a :class:`BrokenPlugin`: listed as unavailable, never
    fatal unless chosen by name.
    """

    def __init__(self, kind: str, builtins: dict[str, str], group: str,
                 build: Callable[[Any, list[Any]], dict[str, Any]], check: Callable[[Any], None],
                 names: Callable[[Any, list[Any]], list[str] | None] = lambda target, options: None,
                 named_sets: Mapping[str, Sequence[str]] | None = None) -> None:
        self.kind, self.builtins, self.group, self.build, self.check = kind, builtins, group, build, check
        self.names = names
        #: Names that stand for several parts in :meth:`select` (``ctc``: JPEG AI's metrics).
        self.named_sets = dict(named_sets or {})

    def targets(self) -> dict[str, Any]:
        """Every registered name and its loaded target, unbuilt: the built-ins, then the entry
        points (one that failed to load as :class:`BrokenPlugin`)."""
        targets = {name: load_object(target) for name, target in self.builtins.items()}
        for name, target in entry_point_objects(self.group):
            targets.setdefault(name, target)
        return targets

    def options_types(self) -> list[type]:
        """The ``Options`` classes of the registered targets, each once, in registration order."""
        found: list[type] = []
        for target in self.targets().values():
            options_type = getattr(target, "Options", None)
            if options_type is not None and options_type not in found:
                found.append(options_type)
        return found

    def _sources(self) -> Iterator[tuple[str, Any, bool]]:
        """(registered name, loaded target, whether it is an entry point) of every target."""
        for name, target in self.builtins.items():
            yield name, load_object(target), False
        for name, target in entry_point_objects(self.group):
            yield name, target, True

    def _names_of(self, name: str, target: Any, plugin: bool, options: list[Any]) -> list[str] | None:
        if isinstance(target, BrokenPlugin):
            return [name]
        names = self.names(target, options)
        # A plug-in giving one part is known by its entry point's name.
        return [name] if plugin and (names is None or len(names) == 1) else names

    def _build(self, name: str, target: Any, plugin: bool, options: list[Any]) -> dict[str, Any]:
        if not plugin:
            return self.build(target, options)
        if isinstance(target, BrokenPlugin):
            return {name: target}
        try:
            found = self.build(target, options)
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must not break bench
            return {name: BrokenPlugin(name, f"cannot create it ({one_line(exc)})")}
        return {name: next(iter(found.values()))} if len(found) == 1 else found

    def parts(self, options: Iterable[Any] = (), only: Iterable[str] | None = None) -> dict[str, Any]:
        """Every registered part by name, available or not (a broken plug-in as :class:`BrokenPlugin`);
        with ``only``, just those of these names, building no target that gives none of them."""
        options, wanted = list(options), None if only is None else set(only)
        parts: dict[str, Any] = {}
        for name, target, plugin in self._sources():
            if wanted is not None:
                names = self._names_of(name, target, plugin, options)
                if names is not None and not wanted & set(names):
                    continue
            for part_name, part in self._build(name, target, plugin, options).items():
                if wanted is None or part_name in wanted:
                    parts.setdefault(part_name, part)
        return parts

    def known_names(self, options: Iterable[Any] = ()) -> list[str]:
        """Every registered name, building only the targets that cannot tell their names otherwise."""
        options, names = list(options), []
        for name, target, plugin in self._sources():
            given = self._names_of(name, target, plugin, options)
            names.extend(given if given is not None else self._build(name, target, plugin, options))
        return names

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
        can run here, and why each other one cannot; a name of :attr:`named_sets`: its members. Only
        the parts named are built. An unknown name, or a named part that cannot run, raises
        :class:`UnknownPart` in one line."""
        options = list(options)
        wanted = self.expand([name.strip() for name in (names.split(",") if isinstance(names, str) else names) if name.strip()])
        if wanted == [ALL]:
            chosen, unavailable = {}, {}
            for name, part in self.parts(options).items():
                reason = self.unavailable(name, part)
                if reason:
                    unavailable[name] = reason
                else:
                    chosen[name] = part
            return Selection(chosen, unavailable)
        registered = self.parts(options, only=wanted)
        unknown = [name for name in wanted if name not in registered]
        if unknown:
            known = ", ".join(sorted(set(self.known_names(options))))
            raise UnknownPart(f"unknown {self.kind} {', '.join(unknown)}; known {self.kind}s: {known}")
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
