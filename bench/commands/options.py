"""Command-line flags mapped onto the typed options of codecs and metrics.

Each options dataclass (``HiFiCOptions``, ``LPIPSOptions``, ``InceptionOptions``) holds its own
defaults; the flags here take their defaults from it, and the ``*_options`` functions build
the objects the registries hand to each codec and metric class.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.codecs.hific.options import HiFiCOptions
from bench.constants import BASELINES_DIR_ENV, COMPRESSAI_WEIGHTS_ENV, LPIPS_NETS, MSILLM_WEIGHTS_ENV, WEIGHTS_DIR_ENV


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device", default=HiFiCOptions.device,
        help="torch device for learned codecs and network metrics: auto (cuda when available, else cpu), cpu, cuda, cuda:1",
    )


def add_codec_arguments(parser: argparse.ArgumentParser) -> None:
    """The HiFiC family options (see ``bench/codecs/hific/families.py``)."""
    parser.add_argument(
        "--hific-checkpoint", action="append", default=[], type=Path, metavar="PATH",
        help="HiFiC checkpoint file, or a folder of them (one per rate), for codec 'hific' (repeatable)",
    )
    parser.add_argument(
        "--hific-family", action="append", default=[], metavar="NAME=PATH",
        help="another HiFiC family under codec name NAME: a checkpoint file or folder (repeatable)",
    )
    parser.add_argument(
        "--hific-config", action="append", default=[], type=Path, metavar="FILE",
        help="YAML file declaring HiFiC families, `families: {NAME: PATH or [PATH, ...]}`, "
        "paths relative to the file (repeatable)",
    )
    parser.add_argument(
        "--baselines-dir", type=Path, metavar="DIR",
        help="extra folder of <family>-<rate>/ HiFiC checkpoint folders, besides the repository's baselines/ "
        f"(default: ${BASELINES_DIR_ENV})",
    )
    parser.add_argument(
        "--compressai-weights", type=Path, metavar="DIR",
        help="folder of CompressAI zoo weight files, named as the zoo's download URLs "
        f"(default: ${COMPRESSAI_WEIGHTS_ENV}, then torch hub's cache)",
    )
    parser.add_argument(
        "--compressai-download", action="store_true",
        help="let the CompressAI zoo download the weights it lacks (needs the internet)",
    )
    parser.add_argument(
        "--msillm-weights", type=Path, metavar="DIR",
        help="folder of the MS-ILLM / no-GAN checkpoint files for codecs msillm and noganms, named as the authors' "
        f"download URLs, e.g. msillm_target_0.14bpp.ckpt (default: ${MSILLM_WEIGHTS_ENV}, then torch hub's cache)",
    )
    parser.add_argument(
        "--model", action="append", default=[], metavar="NAME=MAPPING",
        help="your own CompressAI-style model as codec NAME: a YAML mapping such as "
        "'{class: mypackage.models:MyModel, args: {N: 128}, checkpoints: ckpts/}' (repeatable; see README, 'Your own model')",
    )
    parser.add_argument(
        "--model-config", action="append", default=[], type=Path, metavar="FILE",
        help="YAML file declaring your own models, `models: {NAME: {class, args, checkpoints, pad_multiple}}`, "
        "paths relative to the file (repeatable)",
    )


def codec_options(args: argparse.Namespace, device: str) -> list[Any]:
    from bench.codecs.compressai_zoo import CompressAIOptions
    from bench.codecs.msillm import MSILLMOptions
    from bench.codecs.own_model import OwnModelOptions

    return [
        OwnModelOptions(config_files=tuple(args.model_config), models=tuple(args.model), device=device),
        HiFiCOptions(
            checkpoints=tuple(args.hific_checkpoint), families=tuple(args.hific_family),
            config_files=tuple(args.hific_config), baselines_dir=args.baselines_dir, device=device,
        ),
        CompressAIOptions(weights_dir=args.compressai_weights, download=args.compressai_download, device=device),
        MSILLMOptions(weights_dir=args.msillm_weights, device=device),
    ]


def add_metric_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights-dir", type=Path, default=None,
        help=f"folder with pretrained weights for lpips/fid/kid, one sub-folder per network "
        f"(default: ${WEIGHTS_DIR_ENV}; if neither is set, the libraries download them)",
    )
    parser.add_argument("--lpips-net", choices=LPIPS_NETS, default=LPIPS_NETS[0], help="LPIPS backbone")
    parser.add_argument("--butteraugli-binary", metavar="PATH", default=None, help="libjxl's butteraugli_main for the butteraugli metric (default: butteraugli_main on PATH)")
    parser.add_argument("--vmaf-ffmpeg", metavar="PATH", default=None, help="an ffmpeg with libvmaf for the vmaf metric (default: imageio-ffmpeg's, else ffmpeg on PATH)")


def metric_options(args: argparse.Namespace, device: str) -> list[Any]:
    from bench.metrics.butteraugli import ButteraugliOptions
    from bench.metrics.inception import InceptionOptions
    from bench.metrics.lpips import LPIPSOptions
    from bench.metrics.niqe import NIQEOptions
    from bench.metrics.vmaf import VMAFOptions

    return [
        LPIPSOptions(net=args.lpips_net, weights_dir=args.weights_dir, device=device),
        InceptionOptions(weights_dir=args.weights_dir, device=device),
        ButteraugliOptions(binary=args.butteraugli_binary),
        VMAFOptions(ffmpeg=args.vmaf_ffmpeg),
        NIQEOptions(weights_dir=args.weights_dir),
    ]
