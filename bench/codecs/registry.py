"""Where codec names come from.

Three sources, merged in this order (a later one may not shadow an earlier name):

1. Built-in codecs: one line each in ``BUILTIN_CODECS`` ("module:Class").
2. Providers: functions that build a set of named codecs from the command-line options,
   e.g. one HiFiC codec per checkpoint family found in ``baselines/``. One line each in
   ``BUILTIN_PROVIDERS`` ("module:function"); a provider module may also define
   ``add_arguments(parser)`` to add its own command-line options.
3. Third-party codecs: the entry-point group ``codec_bench.codecs``, each entry point
   naming a :class:`~bench.codecs.base.Codec` subclass (or a zero-argument factory).
"""
from __future__ import annotations

import argparse
import importlib
from typing import Any, Callable, Mapping

from bench.codecs.base import Codec, CodecUnavailable
from bench.errors import BenchError
from bench.plugins import entry_point_objects, load_object

ENTRY_POINT_GROUP = "codec_bench.codecs"

BUILTIN_CODECS: dict[str, str] = {
    "jpeg": "bench.codecs.jpeg:JPEG",
    "webp": "bench.codecs.webp:WebP",
    "jpeg2000": "bench.codecs.jpeg2000:JPEG2000",
    "avif": "bench.codecs.avif:AVIF",
    "jpegxl": "bench.codecs.jpegxl:JPEGXL",
    "hevc": "bench.codecs.hevc:HEVC",
}

#: Functions ``provider(options) -> dict[name, Codec]``.
BUILTIN_PROVIDERS: list[str] = ["bench.codecs.hific.codec:provider"]

Provider = Callable[[Mapping[str, Any]], Mapping[str, Codec]]


class UnknownCodec(BenchError):
    pass


class BrokenPlugin(Codec):
    """Stands in for a third-party codec that failed to load, so it is listed as unavailable."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem

    def check_available(self) -> None:
        raise CodecUnavailable(f"{self.name}: {self.problem}")


def _instantiate(factory: Any) -> Codec:
    codec = factory()
    if not isinstance(codec, Codec):
        raise TypeError(f"{factory!r} did not produce a bench Codec")
    return codec


def add_provider_arguments(parser: argparse.ArgumentParser) -> None:
    """Let each provider module add its own command-line options to ``bench run``."""
    for target in BUILTIN_PROVIDERS:
        module = importlib.import_module(target.partition(":")[0])
        adder = getattr(module, "add_arguments", None)
        if adder is not None:
            adder(parser)


def all_codecs(options: Mapping[str, Any] | None = None) -> dict[str, Codec]:
    """Every registered codec, available or not, by name."""
    options = dict(options or {})
    codecs: dict[str, Codec] = {}
    for name, target in BUILTIN_CODECS.items():
        codecs[name] = _instantiate(load_object(target))
    for target in BUILTIN_PROVIDERS:
        provider: Provider = load_object(target)
        for name, codec in provider(options).items():
            codecs.setdefault(name, codec)
    for name, factory, problem in entry_point_objects(ENTRY_POINT_GROUP):
        if name in codecs:
            continue
        if problem is None:
            try:
                codecs[name] = _instantiate(factory)
                continue
            except Exception as exc:  # noqa: BLE001 - a broken plug-in must not break bench
                problem = f"cannot create it ({type(exc).__name__}: {exc})"
        codecs[name] = BrokenPlugin(name, problem)
    return codecs


def select_codecs(names: str, options: Mapping[str, Any] | None = None) -> tuple[dict[str, Codec], dict[str, str]]:
    """Resolve a comma-separated ``--codecs`` value.

    ``all`` means every registered codec that can run here. Returns the selected codecs
    and, for ``all``, the reasons the others were left out. An unknown name raises
    :class:`UnknownCodec` with the list of known ones.
    """
    registered = all_codecs(options)
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    skipped: dict[str, str] = {}
    if wanted == ["all"]:
        selected = {}
        for name, codec in registered.items():
            try:
                codec.check_available()
            except Exception as exc:  # noqa: BLE001 - any import failure means "not here"
                skipped[name] = str(exc)
            else:
                selected[name] = codec
        return selected, skipped
    unknown = [name for name in wanted if name not in registered]
    if unknown:
        raise UnknownCodec(
            f"unknown codec {', '.join(unknown)}; known codecs: {', '.join(sorted(registered))} "
            "(see `bench codecs`)"
        )
    selected = {name: registered[name] for name in wanted}
    for codec in selected.values():
        codec.check_available()
    return selected, skipped
