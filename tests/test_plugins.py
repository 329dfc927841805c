"""The registries build only the parts a run names, and list every part without loading a network."""
from __future__ import annotations

import argparse

import pytest

from bench.codecs.compressai_zoo import CompressAIZoo
from bench.codecs.hific.family_codec import HiFiCCodec
from bench.codecs.registry import CODECS
from bench.metrics.registry import METRICS
from bench.plugins import UnknownPart


def refuse(*args, **kwargs):
    raise AssertionError("built a part that was not asked for")


def test_naming_one_codec_builds_no_other(monkeypatch):
    monkeypatch.setattr(HiFiCCodec, "instances", classmethod(refuse))
    monkeypatch.setattr(CompressAIZoo, "instances", classmethod(refuse))
    assert list(CODECS.select("jpeg,webp").chosen) == ["jpeg", "webp"]


def test_naming_one_metric_builds_no_network_metric(monkeypatch):
    from bench.metrics.lpips import LPIPS

    monkeypatch.setattr(LPIPS, "__init__", refuse)
    assert [metric.name for metric in METRICS.select("psnr").chosen.values()] == ["psnr"]


def test_an_unknown_name_lists_the_known_ones_without_building_them(monkeypatch):
    monkeypatch.setattr(CompressAIZoo, "instances", classmethod(refuse))
    with pytest.raises(UnknownPart, match=r"^unknown codec jpge; known codecs: .*bmshj2018-hyperprior.*\bjpeg\b"):
        CODECS.select("jpge")


def test_bench_codecs_lists_every_codec_without_loading_a_network(monkeypatch, capsys):
    import bench.models.hific.checkpoint as hific_checkpoint
    from bench.commands.codecs import codecs_command

    monkeypatch.setattr(hific_checkpoint, "load_checkpoint", refuse)
    monkeypatch.setattr(CompressAIZoo, "model", refuse)
    parser = argparse.ArgumentParser()
    from bench.commands.options import add_device_argument, add_part_flags

    add_device_argument(parser)
    add_part_flags(parser, CODECS)
    args = parser.parse_args([])
    args.complexity = False
    assert codecs_command(args) == 0
    listing = capsys.readouterr().out
    assert "hific-cpu-dense " in listing and "jpeg " in listing
