"""MS-ILLM and its no-GAN models (Muckley et al., ICML 2023), from the authors' published checkpoints.

Two codecs of one class: ``msillm`` (trained with the implicit local likelihood model's
adversarial loss) and ``noganms`` (the same mean-scale hyperprior autoencoder trained without a
GAN). The setting is the authors' quality index 1-6 (``msillm_quality_1`` ...), one checkpoint
each, targets 0.035 to 0.9 bpp. The network is ``bench.models.msillm`` (NeuralCompression's
``HiFiCAutoencoder``); its compress/decompress are the authors' steps with CompressAI's entropy
models (rANS), so the bytes are the model's own strings, in the ``CZ`` container of
``compressai_style.py`` (the setting stored is the quality index). The image is reflect-padded at
the bottom and right to a multiple of 64, as NeuralCompression's ``compress`` does (replicate
padding where a side is too short to reflect, which NeuralCompression cannot code at all).

Weights: the authors' files under the names of their download URLs
(``msillm_target_0.035bpp.ckpt`` ... ``noganms_target_0.9bpp.ckpt``, see :data:`TARGET_BPP`),
from ``--msillm-weights DIR`` / ``$BENCH_MSILLM_WEIGHTS``, else torch hub's cache (where
``torch.hub.load("facebookresearch/NeuralCompression", "msillm_quality_3")`` puts them). They are
CC-BY-NC 4.0, so nothing ships; a codec without any of its files is unavailable, in one line.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from bench.codecs.base import Codec, CodecUnavailable, Setting
from bench.codecs.compressai_style import CompressAIStyleCodec
from bench.constants import MSILLM_WEIGHTS_ENV
from bench.errors import BenchError
from bench.options import option

#: The authors' download folder (NeuralCompression's ``zoo/_msillm.py`` and ``_noganms.py``).
DOWNLOAD_URL = "https://dl.fbaipublicfiles.com/NeuralCompression/2023-muckley-msillm/"
#: Quality index -> the bpp its checkpoint was trained for (the ``target_...bpp`` of its file name).
TARGET_BPP = {1: "0.035", 2: "0.07", 3: "0.14", 4: "0.3", 5: "0.45", 6: "0.9"}
#: Codec name -> what it is.
MODELS = {
    "msillm": "MS-ILLM (Muckley et al. 2023), HiFiC autoencoder trained with a local likelihood GAN loss",
    "noganms": "No-GAN baseline of MS-ILLM (Muckley et al. 2023): the same mean-scale hyperprior, MSE+LPIPS only",
}
#: Measured with random weights of the published sizes (bench/models/msillm.py defaults) on kodim01.
COST = "about 5 s to encode and 15 s to decode a 768 x 512 image on 2 shared CPU cores"


@dataclass(frozen=True)
class MSILLMOptions:
    #: Folder of the authors' checkpoint files; None: ``$BENCH_MSILLM_WEIGHTS``, then torch hub's cache.
    weights_dir: Path | None = option(
        None, flag="--msillm-weights", type=Path, metavar="DIR",
        help="folder of the MS-ILLM / no-GAN checkpoint files for codecs msillm and noganms, named as the authors' "
        f"download URLs, e.g. msillm_target_0.14bpp.ckpt (default: ${MSILLM_WEIGHTS_ENV}, then torch hub's cache)",
    )


def checkpoint_name(model: str, quality: int) -> str:
    """The authors' file name of one checkpoint, e.g. ``msillm_target_0.14bpp.ckpt``."""
    return f"{model}_target_{TARGET_BPP[quality]}bpp.ckpt"


def weight_folders(options: MSILLMOptions) -> list[Path]:
    """Where checkpoint files are looked for, in order."""
    chosen = options.weights_dir or os.environ.get(MSILLM_WEIGHTS_ENV)
    import torch

    return ([Path(chosen).expanduser()] if chosen else []) + [Path(torch.hub.get_dir()) / "checkpoints"]


def load_autoencoder(path: Path) -> Any:
    """The autoencoder of one checkpoint file, its sizes read from the tensors' shapes, CDF tables built."""
    import torch

    from bench._torchvision import ensure_torchvision

    ensure_torchvision()  # compressai imports torchvision
    from bench.models.msillm import MSILLMAutoencoder

    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        residual_blocks = len({key.split(".")[2] for key in state if key.startswith("decoder.resid_blocks.")})
        model = MSILLMAutoencoder(
            latent_features=state["encoder.blocks.5.weight"].shape[0],
            hyper_features=state["hyper_bottleneck.quantiles"].shape[0],
            residual_blocks=residual_blocks,
        )
        model.load_state_dict(state)
    except (KeyError, RuntimeError, AttributeError, TypeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"{path}: not an MS-ILLM / NeuralCompression HiFiCAutoencoder state dict ({first_line})") from None
    # Tables stored in the file are kept, as NeuralCompression's update_tensor_devices("compress") keeps them.
    model.update()
    return model.eval()


class MSILLM(CompressAIStyleCodec):
    """One of the authors' model series (``msillm`` or ``noganms``); settings are quality indexes 1-6."""

    Options: ClassVar[type] = MSILLMOptions
    pad_mode = "reflect"

    def __init__(self, model: str, options: MSILLMOptions | None = None) -> None:
        self.name = model
        self.options = options or MSILLMOptions()
        self.description = f"{MODELS[model]}; {COST}"
        self._files: dict[int, Path | None] | None = None
        self._models: dict[int, Any] = {}

    @classmethod
    def instances(cls, options: MSILLMOptions | None = None) -> dict[str, Codec]:
        return {model: cls(model, options) for model in MODELS}

    @classmethod
    def names(cls, options: MSILLMOptions | None = None) -> list[str]:
        return list(MODELS)

    def weight_files(self) -> dict[int, Path | None]:
        """Quality -> its checkpoint file, None where none of the folders has it."""
        if self._files is None:
            folders = weight_folders(self.options)
            self._files = {}
            for quality in TARGET_BPP:
                name = checkpoint_name(self.name, quality)
                self._files[quality] = next((folder / name for folder in folders if (folder / name).is_file()), None)
        return self._files

    @property
    def settings(self) -> list[Setting]:
        return [quality for quality, path in self.weight_files().items() if path is not None]

    def parse_setting(self, text: str) -> Setting:
        try:
            quality = int(text)
        except ValueError:
            raise ValueError(f"{self.name} settings are quality indexes 1-6, not {text!r}") from None
        if quality not in TARGET_BPP:
            raise ValueError(f"{self.name} quality {quality} is outside its range 1..6")
        return quality

    def check_available(self) -> None:
        from bench._torchvision import ensure_torchvision

        try:
            ensure_torchvision()  # compressai imports torchvision
            import compressai  # noqa: F401  (the entropy coder)
        except ImportError as exc:
            raise CodecUnavailable(f"{self.name}: cannot import compressai ({exc})") from None
        if not self.settings:
            raise CodecUnavailable(
                f"{self.name}: no MS-ILLM checkpoints; put {checkpoint_name(self.name, 1)} ... {checkpoint_name(self.name, 6)} "
                f"(from {DOWNLOAD_URL}, CC-BY-NC 4.0) in --msillm-weights DIR (${MSILLM_WEIGHTS_ENV})"
            )

    def use_device(self, device: str) -> None:
        if device != self.device:
            self.device, self._models = device, {}

    def model(self, quality: Setting) -> Any:
        """The autoencoder of ``quality``, loaded once per process, in eval mode."""
        quality = int(self.parse_setting(str(quality)))
        if quality not in self._models:
            from bench.device import resolve_device

            path = self.weight_files()[quality]
            if path is None:
                raise BenchError(f"{self.name}: no {checkpoint_name(self.name, quality)} in --msillm-weights DIR (${MSILLM_WEIGHTS_ENV})")
            self._models[quality] = load_autoencoder(path).to(resolve_device(self.device))
        return self._models[quality]
