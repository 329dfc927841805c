"""Encode and decode time of HiFiC on one 768x512 Kodak image, both bitstreams.

Two kinds of model:

* ``--checkpoints FILE...`` (default: every checkpoint in ``baselines/hific-*/``): trained
  models, timed through the codecs ``bench run`` uses (``HiFiCCodec`` entropy-coded and
  sparse-matrix, checkpoint loaded once, outside the timing); sizes and PSNR are printed too.
* ``--presets small,paper``: random (seeded) weights of a preset, for presets nobody has trained
  yet. Network time does not depend on the weights' values and entropy-coding time only
  mildly, so these are timing only.

Networks run on ``--device``; entropy coding (rANS) and the sparse matrix always run on the CPU,
as in the codecs. Best of ``--repeats`` after one warm-up round. Kodak comes from
``$BENCH_DATA_DIR`` (or is downloaded) as for ``bench run``.

    PYTHONPATH=. python benchmarks/hific_speed.py                      # the shipped checkpoints
    PYTHONPATH=. python benchmarks/hific_speed.py --presets small,paper --device cuda
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from bench import datasets
from bench.codecs.base import bits_per_pixel
from bench.codecs.hific.entropy_coded import EntropyCodedHiFiC
from bench.codecs.hific.families import checkpoints_in, default_baselines_dir
from bench.codecs.hific.sparse_matrix import SparseMatrixHiFiC
from bench.imageio import read_image
from bench.metrics.psnr import psnr
from bench.models.hific.config import preset
from bench.models.hific.model import HiFiC, count_parameters

IMAGE = "kodim01.png"  # 768x512
CODECS = (EntropyCodedHiFiC, SparseMatrixHiFiC)


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def best_times(encode: Callable[[], bytes], decode: Callable[[bytes], np.ndarray], repeats: int, device: str):
    """(best encode s, best decode s, bytes, reconstruction) over ``repeats`` rounds after a warm-up."""
    encode_times, decode_times = [], []
    for _ in range(repeats + 1):  # the first round warms up (allocations, cuDNN plans)
        _synchronize(device)
        start = time.perf_counter()
        data = encode()
        _synchronize(device)
        middle = time.perf_counter()
        reconstruction = decode(data)
        _synchronize(device)
        encode_times.append(middle - start)
        decode_times.append(time.perf_counter() - middle)
    return min(encode_times[1:]), min(decode_times[1:]), data, reconstruction


def time_checkpoint(path: Path, device: str, repeats: int, image: np.ndarray) -> list[str]:
    """One printed line per bitstream of a trained checkpoint."""
    lines = []
    for codec_class in CODECS:
        codec = codec_class(f"speed-{path.stem}", {path.stem: path}, device)
        codec.prepare(path.stem)
        encode, decode, data, reconstruction = best_times(
            lambda: codec.encode(image, path.stem), lambda data: codec.decode(data), repeats, device,
        )
        bpp = bits_per_pixel(data, image)
        lines.append(f"{path.parent.name:24} {codec_class.bitstream_suffix or '(rANS)':15} {encode * 1e3:10.1f} {decode * 1e3:10.1f} "
                     f"{(encode + decode) * 1e3:10.1f}   {bpp:.3f} bpp, {psnr(image, reconstruction):.2f} dB")
    return lines


def time_preset(name: str, device: str, repeats: int, image: np.ndarray) -> list[str]:
    """One printed line per bitstream of a random model of preset ``name``."""
    from bench.codecs.hific import entropy_coded, sparse_matrix
    from bench.models.hific.checkpoint import fingerprint

    torch.manual_seed(0)
    model = HiFiC(preset(name)).eval()
    model.update()
    model.to(device)
    model_fingerprint = fingerprint(model)
    lines = []
    for module, suffix in ((entropy_coded, "(rANS)"), (sparse_matrix, "-sparse-matrix")):
        encode, decode, _, _ = best_times(
            lambda: module.encode_image(model, image, name, model_fingerprint)[0],
            lambda data: module.decode_image(model, data, model_fingerprint), repeats, device,
        )
        label = f"{name} (random, {count_parameters(model) / 1e6:.1f}M)"
        lines.append(f"{label:24} {suffix:15} {encode * 1e3:10.1f} {decode * 1e3:10.1f} {(encode + decode) * 1e3:10.1f}")
    return lines


def shipped_checkpoints() -> list[Path]:
    folder = default_baselines_dir()
    return [path for sub in sorted(folder.glob("hific-*")) if sub.is_dir() for path in checkpoints_in(sub, str(sub)).values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", nargs="*", type=Path, default=None, help="default: baselines/hific-*/")
    parser.add_argument("--presets", default="", help="random models of these presets instead, e.g. small,paper")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    image = read_image(next(path for path in datasets.resolve("kodak") if path.name == IMAGE))
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    print(f"HiFiC speed, Kodak {IMAGE} ({image.shape[1]}x{image.shape[0]}), device {device_name}, torch {torch.__version__}, "
          f"best of {args.repeats}")
    print(f"{'model':24} {'bitstream':15} {'encode ms':>10} {'decode ms':>10} {'total ms':>10}")
    with torch.no_grad():
        if args.presets:
            for name in args.presets.split(","):
                print("\n".join(time_preset(name, args.device, args.repeats, image)))
        for path in args.checkpoints if args.checkpoints is not None else ([] if args.presets else shipped_checkpoints()):
            print("\n".join(time_checkpoint(path, args.device, args.repeats, image)), flush=True)


if __name__ == "__main__":
    main()
