"""Codecs: a small base class and a registry (see :mod:`bench.codecs.registry`)."""
from bench.codecs.base import Codec, CodecUnavailable, EncodeResult, PillowCodec
from bench.codecs.registry import UnknownCodec, all_codecs, select_codecs

__all__ = ["Codec", "CodecUnavailable", "EncodeResult", "PillowCodec", "UnknownCodec", "all_codecs", "select_codecs"]
