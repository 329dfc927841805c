"""HiFiC as a bench codec: settings are checkpoints, one per target rate.

Codec names are ``<family><bitstream suffix>``: a family is a set of checkpoints (e.g.
``hific`` from ``--hific-checkpoint``, ``hific-small-dense`` from
``baselines/hific-small-dense-lo/``), and each bitstream format over the same checkpoints
is its own codec. This module registers the entropy-coded format (suffix ""); another
format adds one entry to :data:`BITSTREAM_CODECS` from its own module, a subclass of
:class:`HiFiCCodec` overriding :meth:`HiFiCCodec.encode_image` and
:meth:`HiFiCCodec.decode_image`.
"""
from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from typing import Any, ClassVar, Mapping

import numpy as np
import torch

from bench.codecs.base import Codec, CodecUnavailable, EncodeResult, Setting
from bench.codecs.hific import bitstream
from bench.codecs.hific.checkpoint import fingerprint, load_checkpoint
from bench.codecs.hific.families import BASELINES_DIR_ENV, families_from_options
from bench.codecs.hific.latent_stats import latent_statistics
from bench.codecs.hific.model import EncodedLatents, HiFiC, bpp_from_likelihoods

#: HiFiC's target rates (bpp) by the rate names used for its models.
NAMED_TARGET_RATES = {"lo": 0.14, "low": 0.14, "mi": 0.30, "med": 0.30, "hi": 0.45, "high": 0.45}
NO_CHECKPOINT = (
    "no HiFiC checkpoint: pass --hific-checkpoint PATH (our format, or the Justin-Tan port's "
    "hific_low/med/hi.pt), train one with `bench train`, or put one in baselines/<family>-<rate>/"
)


def target_rate_of(setting: str) -> float:
    """The target bpp a checkpoint name implies (``lo``, ``hific_med``...), else NaN."""
    last_word = re.split(r"[-_]", setting.lower())[-1]
    return NAMED_TARGET_RATES.get(last_word, math.nan)


class HiFiCCodec(Codec):
    """The entropy-coded HiFiC bitstream (``bitstream.py``) over a family of checkpoints."""

    library: ClassVar[str] = "compressai"
    description: ClassVar[str] = "HiFiC (Mentzer et al. 2020), CompressAI entropy coding; settings are checkpoints"
    bitstream_suffix: ClassVar[str] = ""

    def __init__(self, family: str, checkpoints: Mapping[str, Path], device: str = "cpu") -> None:
        self.name = family + self.bitstream_suffix
        self.family = family
        # Low to high rate: by the target rate the name implies, then by name.
        order = sorted(checkpoints, key=lambda s: (math.isnan(target_rate_of(s)), target_rate_of(s), s))
        self.checkpoints = {setting: Path(checkpoints[setting]) for setting in order}
        self.device = device
        self._models: dict[str, tuple[HiFiC, int, dict[str, Any]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_models"] = {}  # each worker loads its own models
        return state

    @property
    def settings(self) -> list[Setting]:
        return list(self.checkpoints)

    def parse_setting(self, text: str) -> Setting:
        if text not in self.checkpoints:
            raise ValueError(f"{self.name}: unknown checkpoint {text!r}; this family has {', '.join(self.checkpoints) or 'none'}")
        return text

    def check_available(self) -> None:
        if not self.checkpoints:
            raise CodecUnavailable(f"{self.name}: {NO_CHECKPOINT}")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise CodecUnavailable(f"{self.name}: --device {self.device} but torch sees no CUDA device")

    def model(self, setting: str) -> tuple[HiFiC, int, dict[str, Any]]:
        """(model, fingerprint, card) for a checkpoint, loaded once per process."""
        if setting not in self._models:
            self.parse_setting(setting)
            if self.device.startswith("cuda"):
                # TF32 would make the GPU's scales differ from the CPU's far beyond float32 noise.
                torch.backends.cudnn.allow_tf32 = False
                torch.backends.cuda.matmul.allow_tf32 = False
            model, card = load_checkpoint(self.checkpoints[setting], self.device)
            self._models[setting] = (model, fingerprint(model), card)
        return self._models[setting]

    def encode_image(self, model: HiFiC, image: np.ndarray, setting: str, model_fingerprint: int) -> tuple[bytes, EncodedLatents]:
        """The bitstream of ``image`` and the encoder's latents it codes."""
        return bitstream.encode_image(model, image, setting, model_fingerprint)

    def decode_image(self, model: HiFiC, data: bytes, model_fingerprint: int) -> np.ndarray:
        return bitstream.decode_image(model, data, model_fingerprint)

    def encode_with_info(self, image: np.ndarray, setting: Setting) -> EncodeResult:
        model, model_fingerprint, card = self.model(setting)
        data, latents = self.encode_image(model, image, setting, model_fingerprint)
        # From the encoder's own latents: the generator (most of a forward pass) never runs here.
        estimate = bpp_from_likelihoods(model.likelihoods(latents), image.shape[0] * image.shape[1])
        target = float(card.get("target_rate", target_rate_of(setting)))
        return EncodeResult(data, {"bpp_estimate": float(estimate), "target_rate": target, **latent_statistics(latents.residual)})

    def encode(self, image: np.ndarray, setting: Setting) -> bytes:
        return self.encode_with_info(image, setting).bitstream

    def decode(self, bitstream_bytes: bytes) -> np.ndarray:
        setting = bitstream.read_header(bitstream_bytes).model_id
        model, model_fingerprint, _ = self.model(setting)
        return self.decode_image(model, bitstream_bytes, model_fingerprint)


#: Bitstream formats over the same checkpoints: codec-name suffix -> codec class.
BITSTREAM_CODECS: dict[str, type[HiFiCCodec]] = {"": HiFiCCodec}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """HiFiC's options for ``bench run`` and ``bench codecs`` (see ``families.py``)."""
    parser.add_argument(
        "--hific-checkpoint", action="append", default=[], metavar="PATH",
        help="HiFiC checkpoint file, or a folder of them (one per rate), for codec 'hific' (repeatable)",
    )
    parser.add_argument(
        "--hific-family", action="append", default=[], metavar="NAME=PATH",
        help="another HiFiC family under codec name NAME: a checkpoint file or folder (repeatable)",
    )
    parser.add_argument(
        "--hific-config", action="append", default=[], metavar="FILE",
        help="YAML file declaring HiFiC families, `families: {NAME: PATH or [PATH, ...]}`, "
        "paths relative to the file (repeatable)",
    )
    parser.add_argument(
        "--baselines-dir", metavar="DIR",
        help=f"extra folder of <family>-<rate>/ HiFiC checkpoint folders, besides the repository's baselines/ "
        f"(default: ${BASELINES_DIR_ENV})",
    )


def provider(options: Mapping[str, Any]) -> dict[str, Codec]:
    """HiFiC codecs: ``hific`` (always, maybe without checkpoints) and every family of
    :func:`~bench.codecs.hific.families.families_from_options`; each in every bitstream format."""
    families = families_from_options(options)
    device = str(options.get("device") or "cpu")
    import bench.codecs.hific.sparse_matrix  # noqa: F401 - registers the sparse-matrix format (it subclasses HiFiCCodec)

    return {
        family + suffix: cls(family, checkpoints, device)
        for family, checkpoints in families.items()
        for suffix, cls in BITSTREAM_CODECS.items()
    }
