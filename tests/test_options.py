"""A part declares its own options: a third-party codec with one option is one file plus one
registration line, and its flag appears in ``bench run --help`` and reaches the codec."""
from __future__ import annotations

import argparse
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from bench import resources
from bench.imageio import read_image
from bench.options import add_option_flags, option, options_from_args
from cli_helpers import make_plugin, run_bench

TOY_CODEC = '''
from dataclasses import dataclass

from bench.codecs.base import PillowCodec
from bench.options import option


@dataclass(frozen=True)
class ToyOptions:
    quality: int = option(75, flag="--toy-quality", type=int, help="the JPEG quality the toy codec always uses")


class Toy(PillowCodec):
    name, pillow_format, default_settings, Options = "toy", "JPEG", (1,), ToyOptions

    def save_options(self, setting):
        return {"quality": self.options.quality}
'''


def test_a_plugin_codecs_option_is_a_flag_of_bench_run_and_reaches_the_codec(tmp_path):
    plugins = make_plugin(tmp_path / "site", "toy-codec", "toy_codec", TOY_CODEC, "[codec_bench.codecs]\ntoy = toy_codec:Toy\n")

    usage = run_bench("run", "--help", PYTHONPATH=str(plugins), COLUMNS="250")
    assert usage.returncode == 0, usage.stderr
    assert "--toy-quality TOY_QUALITY" in usage.stdout and "the JPEG quality the toy codec always uses (default: 75)" in usage.stdout

    (tmp_path / "images").mkdir()
    shutil.copy(resources.DATA_DIR / "sample" / "kodim23-crop.png", tmp_path / "images")
    done = run_bench("run", "--codecs", "toy", "--toy-quality", "12", "--metrics", "psnr", "--images", str(tmp_path / "images"),
                     "--out", str(tmp_path / "run"), PYTHONPATH=str(plugins))
    assert done.returncode == 0, done.stderr
    row = pd.read_csv(tmp_path / "run" / "results.csv").iloc[0]
    image = read_image(tmp_path / "images" / "kodim23-crop.png")
    expected = io.BytesIO()
    Image.fromarray(image).save(expected, format="JPEG", quality=12)
    assert row["bytes"] == len(expected.getvalue())


@dataclass(frozen=True)
class WeightsOptions:
    folder: Path | None = option(None, flag="--shared-folder", type=Path, help="weights")
    names: tuple[str, ...] = option((), flag="--name", repeatable=True, help="a name")


@dataclass(frozen=True)
class OtherWeightsOptions:
    folder: Path | None = option(None, flag="--shared-folder", type=Path, help="weights again")
    fast: bool = option(False, flag="--fast", switch=True, help="go fast")


def test_a_flag_two_parts_declare_is_added_once_and_fills_both():
    parser = argparse.ArgumentParser()
    add_option_flags(parser, [WeightsOptions, OtherWeightsOptions])
    args = parser.parse_args(["--shared-folder", "w", "--name", "a", "--name", "b", "--fast"])
    assert options_from_args(args, [WeightsOptions, OtherWeightsOptions]) == [
        WeightsOptions(Path("w"), ("a", "b")), OtherWeightsOptions(Path("w"), True)]
    assert options_from_args(parser.parse_args([]), [WeightsOptions, OtherWeightsOptions]) == [
        WeightsOptions(), OtherWeightsOptions()]
    assert np.sum(["--shared-folder" in action.option_strings for action in parser._actions]) == 1
