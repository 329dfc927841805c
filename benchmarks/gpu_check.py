"""The GPU check: encode and decode times of the learned codecs on one device, and a bitstream
encoded there decoded on the CPU.

For each codec (the shipped ``hific-cpu-dense`` at ``lo``/``mi``/``hi``, CompressAI's
``bmshj2018-hyperprior`` and ``mbt2018-mean`` at quality 3 and ``msillm`` at quality 3 (the published
models' sizes) with random weights: network time does not depend on the weights' values, and an own-model codec over CompressAI's ``ScaleHyperprior``
class from a checkpoint written here), on kodim01 (768 x 512):

* encode and decode time on ``--device``: median of ``--repeats`` after one warm-up, with
  ``torch.cuda.synchronize`` around each call on CUDA (inside the codec calls the runner times);
* the bitstream encoded on the device, decoded on the CPU: equal bytes to the CPU's own encoding?
  the largest difference between the device's decode and the CPU's decode of the same bytes.

    PYTHONPATH=. python benchmarks/gpu_check.py --device cuda      # what benchmarks/gpu_check.sh runs
    PYTHONPATH=. python benchmarks/gpu_check.py --device cpu       # the same path on the CPU
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench import datasets
from bench.codecs.base import Codec, bits_per_pixel
from bench.codecs.compressai_zoo import CompressAIOptions, CompressAIZoo
from bench.codecs.msillm import MSILLM, MSILLMOptions, checkpoint_name
from bench.codecs.own_model import OwnModelCodec, OwnModelOptions
from bench.codecs.registry import all_codecs
from bench.imageio import read_image


def synchronized(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(call, device: str, repeats: int) -> tuple[object, float]:
    result, times = call(), []
    for _ in range(repeats):
        synchronized(device)
        started = time.perf_counter()
        result = call()
        synchronized(device)
        times.append(time.perf_counter() - started)
    return result, statistics.median(times)


def codecs_under_test(folder: Path) -> list[tuple[Codec, list]]:
    from bench._torchvision import ensure_torchvision

    ensure_torchvision()
    import compressai.zoo.image as zoo
    from compressai.models import ScaleHyperprior

    found = []
    hific = all_codecs().get("hific-cpu-dense")
    if hific is not None and hific.settings:
        found.append((hific, ["lo", "mi", "hi"]))
    for architecture in ("bmshj2018-hyperprior", "mbt2018-mean"):
        torch.manual_seed(0)
        model = zoo.model_architectures[architecture](*zoo.cfgs[architecture][3])
        name = zoo.model_urls[architecture]["mse"][3].rsplit("/", 1)[-1]
        torch.save(model.state_dict(), folder / name)
        found.append((CompressAIZoo(architecture, "mse", CompressAIOptions(weights_dir=folder)), [3]))
    from bench.models.msillm import MSILLMAutoencoder

    torch.manual_seed(0)
    torch.save(MSILLMAutoencoder().state_dict(), folder / checkpoint_name("msillm", 3))
    found.append((MSILLM("msillm", MSILLMOptions(weights_dir=folder)), [3]))
    torch.manual_seed(1)
    torch.save({"state_dict": ScaleHyperprior(128, 192).state_dict()}, folder / "q3.pth.tar")
    spec = f"own-hyperprior={{class: compressai.models:ScaleHyperprior, args: {{N: 128, M: 192}}, checkpoints: {folder / 'q3.pth.tar'}}}"
    found.append((next(iter(OwnModelCodec.instances(OwnModelOptions(models=(spec,))).values())), ["q3"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    image = read_image(datasets.resolve("kodak")[0])
    print(f"device {args.device} ({torch.cuda.get_device_name() if args.device.startswith('cuda') else 'CPU'}), "
          f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, image {image.shape[1]}x{image.shape[0]}")
    print(f"{'codec':<24}{'setting':>8}{'bpp':>8}{'encode s':>10}{'decode s':>10}  cross-device (bitstream from {args.device}, decoded on cpu)")
    with tempfile.TemporaryDirectory() as scratch:
        for codec, settings in codecs_under_test(Path(scratch)):
            for setting in settings:
                codec.use_device(args.device)
                codec.prepare(setting)
                bitstream, encode_seconds = timed(lambda: codec.encode(image, setting), args.device, args.repeats)
                decoded, decode_seconds = timed(lambda: codec.decode(bitstream), args.device, args.repeats)
                codec.use_device("cpu")
                same_bytes = codec.encode(image, setting) == bitstream
                on_cpu = codec.decode(bitstream)
                difference = int(np.abs(on_cpu.astype(int) - np.asarray(decoded)).max())
                print(f"{codec.name:<24}{str(setting):>8}{bits_per_pixel(bitstream, image):>8.3f}{encode_seconds:>10.3f}"
                      f"{decode_seconds:>10.3f}  same bytes as a cpu encode: {'yes' if same_bytes else 'NO'}; "
                      f"decode max difference {difference}")


if __name__ == "__main__":
    main()
