"""CompressAI's pretrained learned codecs (its model zoo) with real entropy-coded bitstreams.

One codec per architecture and training metric: ``bmshj2018-factorized``,
``bmshj2018-hyperprior``, ``mbt2018-mean``, ``mbt2018``, ``cheng2020-anchor``,
``cheng2020-attn`` (trained for MSE), each also as ``<name>-msssim`` (trained for MS-SSIM).
The setting is the zoo's quality index (1-8; 1-6 for cheng2020). Encoding and decoding are the
models' own ``compress`` / ``decompress`` (CompressAI's rANS); the bytes are those strings in
a small self-describing format (magic ``CZ``, see ``compressai_style.py``).

Weights: the zoo's files (its download URLs' file names, e.g.
``bmshj2018-factorized-prior-1-446d5c7f.pth.tar``), from ``--compressai-weights DIR`` /
``$BENCH_COMPRESSAI_WEIGHTS``, else torch hub's cache where the zoo's own download puts them;
``--compressai-download`` lets the zoo download what is missing (needs the internet). A codec
without any of its weights is unavailable, in one line. They are read with
``weights_only=True`` and loaded through the zoo's own ``load_pretrained`` / ``from_state_dict``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from bench.codecs.base import Codec, CodecUnavailable, Setting
from bench.codecs.compressai_style import CompressAIStyleCodec
from bench.constants import COMPRESSAI_WEIGHTS_ENV
from bench.options import option


#: Architecture -> (paper, CPU time for a 768 x 512 image on 2 cores, measured with random weights
#: while a training job shared the cores: an upper bound).
ARCHITECTURES = {
    "bmshj2018-factorized": ("Balle et al. 2018, factorized prior", "about 1 s to encode and 1 s to decode"),
    "bmshj2018-hyperprior": ("Balle et al. 2018, scale hyperprior", "about 3 s to encode and 3 s to decode"),
    "mbt2018-mean": ("Minnen et al. 2018, mean-scale hyperprior", "about 3 s to encode and 3 s to decode"),
    "mbt2018": ("Minnen et al. 2018, joint autoregressive and hyperprior",
                "autoregressive context model, coded position by position: about 40 s to encode and 40 s to decode"),
    "cheng2020-anchor": ("Cheng et al. 2020, anchor",
                         "autoregressive context model: about 16 s to encode and 19 s to decode"),
    "cheng2020-attn": ("Cheng et al. 2020, with attention",
                       "autoregressive context model: about 42 s to encode and 45 s to decode"),
}
#: Training objective (the zoo's name for it, a metric) -> codec name suffix.
TRAINING_OBJECTIVES = {"mse": "", "ms-ssim": "-msssim"}


@dataclass(frozen=True)
class CompressAIOptions:
    #: Folder of the zoo's weight files; None: ``$BENCH_COMPRESSAI_WEIGHTS``, then torch hub's cache.
    weights_dir: Path | None = option(
        None, flag="--compressai-weights", type=Path, metavar="DIR",
        help="folder of CompressAI zoo weight files, named as the zoo's download URLs "
        f"(default: ${COMPRESSAI_WEIGHTS_ENV}, then torch hub's cache)",
    )
    #: Let the zoo download missing weights (its own download, into torch hub's cache).
    download: bool = option(False, flag="--compressai-download", switch=True,
                            help="let the CompressAI zoo download the weights it lacks (needs the internet)")


def _zoo() -> Any:
    from bench._torchvision import ensure_torchvision

    ensure_torchvision()
    import compressai.zoo.image as zoo

    return zoo


def weight_file_name(architecture: str, metric: str, quality: int) -> str:
    """The zoo's file name for one model (the last part of its download URL)."""
    return _zoo().model_urls[architecture][metric][quality].rsplit("/", 1)[-1]


def weight_folders(options: CompressAIOptions) -> list[Path]:
    """Where weight files are looked for, in order."""
    folders = []
    chosen = options.weights_dir or os.environ.get(COMPRESSAI_WEIGHTS_ENV)
    if chosen:
        folders.append(Path(chosen).expanduser())
    import torch

    folders.append(Path(torch.hub.get_dir()) / "checkpoints")
    return folders


class CompressAIZoo(CompressAIStyleCodec):
    """One CompressAI zoo architecture trained for one metric; settings are quality indexes."""

    Options: ClassVar[type] = CompressAIOptions

    def __init__(self, architecture: str, metric: str, options: CompressAIOptions | None = None) -> None:
        self.architecture, self.metric = architecture, metric
        self.name = architecture + TRAINING_OBJECTIVES[metric]
        self.options = options or CompressAIOptions()
        paper, cost = ARCHITECTURES[architecture]
        self.description = f"CompressAI zoo: {paper}, trained for {metric}; {cost} on 2 CPU cores"
        self._files: dict[int, Path | None] | None = None
        self._models: dict[int, Any] = {}

    @classmethod
    def instances(cls, options: CompressAIOptions | None = None) -> dict[str, Codec]:
        return {
            architecture + suffix: cls(architecture, metric, options)
            for architecture in ARCHITECTURES for metric, suffix in TRAINING_OBJECTIVES.items()
        }

    @classmethod
    def names(cls, options: CompressAIOptions | None = None) -> list[str]:
        return [architecture + suffix for architecture in ARCHITECTURES for suffix in TRAINING_OBJECTIVES.values()]

    def qualities(self) -> list[int]:
        return sorted(_zoo().model_urls[self.architecture][self.metric])

    def weight_files(self) -> dict[int, Path | None]:
        """Quality -> local weight file (None when only a download could give it)."""
        if self._files is None:
            folders = weight_folders(self.options)
            self._files = {}
            for quality in self.qualities():
                name = weight_file_name(self.architecture, self.metric, quality)
                self._files[quality] = next((folder / name for folder in folders if (folder / name).is_file()), None)
        return self._files

    @property
    def settings(self) -> list[Setting]:
        files = self.weight_files()
        return [quality for quality, path in files.items() if path is not None or self.options.download]

    def parse_setting(self, text: str) -> Setting:
        try:
            quality = int(text)
        except ValueError:
            raise ValueError(f"{self.name} settings are quality indexes, not {text!r}") from None
        if quality not in self.qualities():
            raise ValueError(f"{self.name} quality {quality} is outside its range {min(self.qualities())}..{max(self.qualities())}")
        return quality

    def check_available(self) -> None:
        try:
            self.qualities()
        except ImportError as exc:
            raise CodecUnavailable(f"{self.name}: cannot import compressai ({exc})") from None
        if not self.settings:
            example = weight_file_name(self.architecture, self.metric, self.qualities()[0])
            raise CodecUnavailable(
                f"{self.name}: no weights (e.g. {example}); put the zoo's files in --compressai-weights DIR "
                f"(${COMPRESSAI_WEIGHTS_ENV}), or pass --compressai-download to let the zoo download them"
            )

    def use_device(self, device: str) -> None:
        if device != self.device:
            self.device, self._models = device, {}

    def model(self, quality: Setting) -> Any:
        """The zoo model of ``quality``, loaded once per process, CDF tables built, in eval mode."""
        quality = int(quality)
        if quality not in self._models:
            import torch

            from bench.device import resolve_device

            zoo = _zoo()  # first: it makes torchvision importable, which compressai imports
            from compressai.zoo.pretrained import load_pretrained

            path = self.weight_files().get(self.parse_setting(str(quality)))
            if path is not None:
                state = torch.load(path, map_location="cpu", weights_only=True)
            elif self.options.download:
                url = zoo.model_urls[self.architecture][self.metric][quality]
                state = torch.hub.load_state_dict_from_url(url, map_location="cpu", weights_only=True, progress=False)
            else:
                raise ValueError(f"{self.name}: no weights for quality {quality}")
            model = zoo.model_architectures[self.architecture].from_state_dict(load_pretrained(state))
            model.update(force=True)
            self._models[quality] = model.to(resolve_device(self.device)).eval()
        return self._models[quality]
