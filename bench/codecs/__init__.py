"""Codecs: a small base class and a registry (see :mod:`bench.codecs.registry`)."""
from bench.codecs.base import Codec, CodecUnavailable, EncodeResult, PillowCodec
from bench.codecs.registry import CODECS, all_codecs, select_codecs

__all__ = ["CODECS", "Codec", "CodecUnavailable", "EncodeResult", "PillowCodec", "all_codecs", "select_codecs"]
