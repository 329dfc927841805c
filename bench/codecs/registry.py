"""Where codec names come from: the built-in codecs and the entry-point group ``codec_bench.codecs``
(see :class:`bench.plugins.Registry`, the shape metrics share).

A codec class registers the codecs :meth:`~bench.codecs.base.Codec.instances` gives for the
options: one under its own name, or, for a class over checkpoint families such as a HiFiC
bitstream format, one per family found. A class that takes options names their dataclass as
``Options``; the caller passes instances of such dataclasses, and each class receives its own
(or the defaults). A third-party entry point may also name a zero-argument factory of one codec.
"""
from __future__ import annotations

from typing import Any, Iterable

from bench.codecs.base import Codec
from bench.plugins import Registry, Selection, options_for

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
    # MS-ILLM and its no-GAN models (codecs msillm and noganms), from the authors' checkpoints.
    "msillm": "bench.codecs.msillm:MSILLM",
    # One codec per model of --model / --model-config (a user's own CompressAI-style model).
    "own-models": "bench.codecs.own_model:OwnModelCodec",
}



def _codecs_of(target: Any, options: list[Any]) -> dict[str, Codec]:
    """The codecs a registered object gives: a Codec class's instances, or one factory's codec."""
    if isinstance(target, type) and issubclass(target, Codec):
        return target.instances(options_for(target, options))
    codec = target()
    if not isinstance(codec, Codec):
        raise TypeError(f"{target!r} did not produce a bench Codec")
    return {codec.name: codec}


def _names_of(target: Any, options: list[Any]) -> list[str] | None:
    """The names a Codec class gives, unbuilt; None for a factory (only calling it can tell)."""
    if isinstance(target, type) and issubclass(target, Codec):
        return target.names(options_for(target, options))
    return None


CODECS = Registry("codec", BUILTIN_CODECS, ENTRY_POINT_GROUP, _codecs_of, lambda codec: codec.check_available(), _names_of)


def all_codecs(options: Iterable[Any] = ()) -> dict[str, Any]:
    """Every registered codec, available or not, by name (a broken plug-in as a ``BrokenPlugin``)."""
    return CODECS.parts(options)


def select_codecs(names: str, options: Iterable[Any] = ()) -> Selection:
    """The codecs of a comma-separated ``--codecs`` value (``all``: every codec that can run here,
    and why each other one cannot)."""
    return CODECS.select(names, options)
