"""Where codec names come from.

Two sources, merged in this order (a later one may not shadow an earlier name):

1. Built-in codecs: one line each in ``BUILTIN_CODECS`` ("module:Class").
2. Third-party codecs: the entry-point group ``codec_bench.codecs``, each entry point
   naming a :class:`~bench.codecs.base.Codec` subclass (or a zero-argument factory).

A codec class registers the codecs :meth:`~bench.codecs.base.Codec.instances` gives for the
options: one under its own name, or, for a class over checkpoint families such as a HiFiC
bitstream format, one per family found. A class that takes options names their dataclass as
``Options``; the caller passes instances of such dataclasses, and each class receives its own
(or the defaults).
"""
from __future__ import annotations

from typing import Any, Iterable

from bench.codecs.base import Codec, CodecUnavailable
from bench.errors import BenchError, one_line
from bench.plugins import BrokenPlugin, entry_point_objects, load_object, options_for

ENTRY_POINT_GROUP = "codec_bench.codecs"

BUILTIN_CODECS: dict[str, str] = {
    "jpeg": "bench.codecs.jpeg:JPEG",
    "webp": "bench.codecs.webp:WebP",
    "jpeg2000": "bench.codecs.jpeg2000:JPEG2000",
    "avif": "bench.codecs.avif:AVIF",
    "jpegxl": "bench.codecs.jpegxl:JPEGXL",
    "hevc": "bench.codecs.hevc:HEVC",
    "jpegli": "bench.codecs.jpegli:JPEGli",
    "htj2k": "bench.codecs.htj2k:HTJ2K",
    "hific": "bench.codecs.hific.entropy_coded:EntropyCodedHiFiC",
    "hific-sparse-matrix": "bench.codecs.hific.sparse_matrix:SparseMatrixHiFiC",
    # One codec per zoo architecture and training metric (bmshj2018-hyperprior, ..., cheng2020-attn-msssim).
    "compressai-zoo": "bench.codecs.compressai_zoo:CompressAIZoo",
    # One codec per model of --model / --model-config (a user's own CompressAI-style model).
    "own-models": "bench.codecs.own_model:OwnModelCodec",
}


class UnknownCodec(BenchError):
    pass


class UnavailablePlugin(Codec):
    """Stands in for a third-party codec that failed to load, so it is listed as unavailable."""

    def __init__(self, plugin: BrokenPlugin) -> None:
        self.name = plugin.name
        self.plugin = plugin

    def check_available(self) -> None:
        raise CodecUnavailable(f"{self.name}: {self.plugin.problem}")


def _instantiate(factory: Any) -> Codec:
    codec = factory()
    if not isinstance(codec, Codec):
        raise TypeError(f"{factory!r} did not produce a bench Codec")
    return codec


def _codecs_of(target: Any, options: Iterable[Any]) -> dict[str, Codec]:
    """The codecs a registered object gives: a Codec class's instances, or one factory's codec."""
    if isinstance(target, type) and issubclass(target, Codec):
        return target.instances(options_for(target, options))
    codec = _instantiate(target)
    return {codec.name: codec}


def all_codecs(options: Iterable[Any] = ()) -> dict[str, Codec]:
    """Every registered codec, available or not, by name; ``options`` are typed options objects."""
    options = list(options)
    codecs: dict[str, Codec] = {}
    for target in BUILTIN_CODECS.values():
        for name, codec in _codecs_of(load_object(target), options).items():
            codecs.setdefault(name, codec)
    for name, target in entry_point_objects(ENTRY_POINT_GROUP):
        if not isinstance(target, BrokenPlugin):
            try:
                found = _codecs_of(target, options)
            except Exception as exc:  # noqa: BLE001 - a broken plug-in must not break bench
                target = BrokenPlugin(name, f"cannot create it ({one_line(exc)})")
            else:
                # A plug-in giving one codec is known by its entry point's name.
                found = {name: next(iter(found.values()))} if len(found) == 1 else found
                for codec_name, codec in found.items():
                    codecs.setdefault(codec_name, codec)
                continue
        codecs.setdefault(name, UnavailablePlugin(target))
    return codecs


def select_codecs(names: str, options: Iterable[Any] = ()) -> tuple[dict[str, Codec], dict[str, str]]:
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
