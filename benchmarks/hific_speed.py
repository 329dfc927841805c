"""Encode and decode time of HiFiC on one 768x512 image, per preset.

Weights are random (seeded): network time does not depend on their values, and entropy
coding time depends on them only mildly, so these figures are timing only -- sizes and
quality of random models mean nothing. Networks run on --device; entropy coding (rANS)
always runs on the CPU, as in the codec.

    PYTHONPATH=. python benchmarks/hific_speed.py --presets small,paper --device cpu
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from bench.codecs.hific import entropy_coded
from bench.models.hific.checkpoint import fingerprint
from bench.models.hific.config import preset
from bench.models.hific.model import HiFiC, count_parameters


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_preset(name: str, device: str, repeats: int, image: np.ndarray) -> tuple[float, float, int]:
    """Best-of-``repeats`` (encode seconds, decode seconds) and the parameter count."""
    torch.manual_seed(0)
    model = HiFiC(preset(name)).eval()
    model.update()
    model.to(device)
    fp = fingerprint(model)
    encode_times, decode_times = [], []
    for _ in range(repeats + 1):  # the first round warms up (allocations, cuDNN plans)
        _synchronize(device)
        start = time.perf_counter()
        data, _ = entropy_coded.encode_image(model, image, name, fp)
        _synchronize(device)
        middle = time.perf_counter()
        entropy_coded.decode_image(model, data, fp)
        _synchronize(device)
        encode_times.append(middle - start)
        decode_times.append(time.perf_counter() - middle)
    return min(encode_times[1:]), min(decode_times[1:]), count_parameters(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="small,paper")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    image = np.random.default_rng(0).integers(0, 256, (512, 768, 3), dtype=np.uint8)
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    print(f"HiFiC speed, 768x512 image, device {device_name}, torch {torch.__version__}, best of {args.repeats}")
    print(f"{'preset':8} {'params':>10} {'encode ms':>10} {'decode ms':>10} {'total ms':>10}")
    with torch.no_grad():
        for name in args.presets.split(","):
            encode, decode, params = time_preset(name, args.device, args.repeats, image)
            print(f"{name:8} {params / 1e6:9.1f}M {encode * 1e3:10.1f} {decode * 1e3:10.1f} {(encode + decode) * 1e3:10.1f}")


if __name__ == "__main__":
    main()
