"""HiFiC as bench codecs: settings are checkpoints, one per target rate.

Codec names are ``<family><bitstream suffix>``: a family is a set of checkpoints (e.g.
``hific`` from ``--hific-checkpoint``, ``hific-cpu-dense`` from
``baselines/hific-cpu-dense-lo/``), and each bitstream format over the same checkpoints is
its own codec class, registered like any other codec (``bench/codecs/registry.py``).
:class:`HiFiCCodec` is their common base: a subclass writes and reads its format
(:meth:`~HiFiCCodec.encode_image`, :meth:`~HiFiCCodec.decode_image`,
:meth:`~HiFiCCodec.model_id`); :meth:`HiFiCCodec.instances` makes one codec per family.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

import numpy as np

from bench.codecs.base import Codec, CodecUnavailable, EncodeResult, Setting
from bench.codecs.hific.families import families_from_options
from bench.codecs.hific.options import HiFiCOptions
from bench.codecs.reference import FreshProcessDecoder
from bench.models.hific.rates import target_rate_of

# Torch, CompressAI and the networks load when a model is first needed (``prepare``), so that
# listing or selecting codecs stays fast.
if TYPE_CHECKING:
    from bench.codecs.hific.container import DecodedLatent
    from bench.models.hific.model import EncodedLatents, HiFiC

NO_CHECKPOINT = (
    "no HiFiC checkpoint: pass --hific-checkpoint PATH (our format, or the Justin-Tan port's "
    "hific_low/med/hi.pt), train one with `bench train`, or put one in baselines/<family>-<rate>/"
)
#: Side of the image coded once by :meth:`HiFiCCodec.prepare` to warm a model up.
WARM_UP_SIZE = 64


class HiFiCCodec(Codec):
    """One HiFiC bitstream format over a family of checkpoints."""

    library: ClassVar[str] = "compressai"
    #: Measured: 394 bytes per pixel on a 1 MP image, CPU (benchmarks/peak_memory.py, docs/memory.md).
    peak_bytes_per_pixel: ClassVar[float] = 400.0
    #: Appended to the family name to give the codec name ("" for the entropy-coded format).
    bitstream_suffix: ClassVar[str] = ""
    Options: ClassVar[type] = HiFiCOptions
    reference_decoder = FreshProcessDecoder()
    analysis_columns: ClassVar[dict[str, str]] = {
        "bpp_estimate": "the bpp the model's likelihoods predict (beside the real bitstream's bpp, never instead)",
        "target_rate": "the rate the checkpoint was trained for (its card, else its name)",
        "latent_zero_fraction": "share of the coded latent residual's symbols that are 0",
        "latent_symbol_entropy_bits": "empirical entropy of the residual's symbols, bits per symbol",
    }

    def __init__(self, family: str, checkpoints: Mapping[str, Path]) -> None:
        self.name = family + self.bitstream_suffix
        self.family = family
        # Low to high rate: by the target rate the name implies, then by name.
        order = sorted(checkpoints, key=lambda s: (math.isnan(target_rate_of(s)), target_rate_of(s), s))
        self.checkpoints = {setting: Path(checkpoints[setting]) for setting in order}
        self._models: dict[str, tuple["HiFiC", int, dict[str, Any]]] = {}

    @classmethod
    def instances(cls, options: HiFiCOptions | None = None) -> dict[str, Codec]:
        """This format over ``hific`` (maybe without checkpoints) and every family the options declare."""
        options = options or HiFiCOptions()
        families = families_from_options(options)
        return {family + cls.bitstream_suffix: cls(family, checkpoints) for family, checkpoints in families.items()}

    @classmethod
    def names(cls, options: HiFiCOptions | None = None) -> list[str]:
        return [family + cls.bitstream_suffix for family in families_from_options(options or HiFiCOptions())]

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

    def use_device(self, device: str) -> None:
        if device != self.device:
            self.device, self._models = device, {}

    def model(self, setting: str) -> tuple["HiFiC", int, dict[str, Any]]:
        """(model, fingerprint, card) for a checkpoint, loaded once per process."""
        if setting not in self._models:
            import torch

            from bench.device import resolve_device
            from bench.models.hific.checkpoint import fingerprint, load_checkpoint

            self.parse_setting(setting)
            device = resolve_device(self.device)
            if device.startswith("cuda"):
                # TF32 would make the GPU's scales differ from the CPU's far beyond float32 noise.
                torch.backends.cudnn.allow_tf32 = False
                torch.backends.cuda.matmul.allow_tf32 = False
            model, card = load_checkpoint(self.checkpoints[setting], device)
            self._models[setting] = (model, fingerprint(model), card)
        return self._models[setting]

    def prepare(self, setting: Setting) -> None:
        """Load the checkpoint and code one small image with it, once per process."""
        if setting in self._models:
            return
        model, model_fingerprint, _ = self.model(str(setting))
        warm_up = np.zeros((WARM_UP_SIZE, WARM_UP_SIZE, 3), dtype=np.uint8)
        self.decode_image(model, self.encode_image(model, warm_up, str(setting), model_fingerprint)[0], model_fingerprint)

    # -- what each bitstream format defines -----------------------------------------------

    def encode_image(self, model: "HiFiC", image: np.ndarray, setting: str, model_fingerprint: int) -> tuple[bytes, "EncodedLatents"]:
        """The bitstream of ``image`` and the encoder's latents it codes."""
        raise NotImplementedError

    def decode_residual(self, model: "HiFiC", data: bytes, model_fingerprint: int) -> "DecodedLatent":
        """The symbols round(y - means) the bitstream codes, with its header and the decoder's means."""
        raise NotImplementedError

    def decode_image(self, model: "HiFiC", data: bytes, model_fingerprint: int) -> np.ndarray:
        return self.decode_residual(model, data, model_fingerprint).reconstruct(model)

    def model_id(self, data: bytes) -> str:
        """The checkpoint name a bitstream of this format was written with."""
        raise NotImplementedError

    def bitstream_info(self, data: bytes) -> dict[str, float]:
        """Columns read off the format's own bytes (e.g. the sizes of its streams); none by default."""
        return {}

    # -- the Codec interface ------------------------------------------------------------

    def encode_with_context(self, image: np.ndarray, setting: Setting) -> EncodeResult:
        model, model_fingerprint, _ = self.model(str(setting))
        data, latents = self.encode_image(model, image, str(setting), model_fingerprint)
        return EncodeResult(data, context=latents)

    def encode(self, image: np.ndarray, setting: Setting) -> bytes:
        return self.encode_with_context(image, setting).bitstream

    def decode(self, bitstream: bytes) -> np.ndarray:
        model, model_fingerprint, _ = self.model(self.model_id(bitstream))
        return self.decode_image(model, bitstream, model_fingerprint)

    def complexity(self, image: np.ndarray, setting: Setting) -> dict[str, float]:
        """The entropy-coded path's figures (the sparse matrix shares its networks)."""
        from bench.codecs.hific.container import image_to_tensor
        from bench.codecs.complexity import measure_codec_model

        model, _, _ = self.model(str(setting))
        x = image_to_tensor(image, model.config, next(model.parameters()).device)
        return measure_codec_model(
            model, lambda: model.compress(x)[0], lambda strings: model.synthesize(model.decompress(strings)),
            pixels=image.shape[0] * image.shape[1],
        )

    def decoded_latent(self, bitstream: bytes) -> np.ndarray:
        """The residual symbols (integers): y_hat adds the means, floats that may differ by
        rounding between machines, so they are not part of what must be bit-exact."""
        model, model_fingerprint, _ = self.model(self.model_id(bitstream))
        return self.decode_residual(model, bitstream, model_fingerprint).residual.cpu().numpy()

    def analyse(self, image: np.ndarray, setting: Setting, encoded: EncodeResult) -> dict[str, float]:
        """``bpp_estimate`` from the likelihoods, ``target_rate``, latent statistics, the format's own columns.

        From the encoder's own latents: the generator (most of a forward pass) never runs here.
        """
        from bench.codecs.hific.latent_stats import latent_statistics
        from bench.models.hific.model import bpp_from_likelihoods

        model, _, card = self.model(str(setting))
        latents: EncodedLatents = encoded.context
        estimate = bpp_from_likelihoods(model.likelihoods(latents), image.shape[0] * image.shape[1], model.config.likelihood_epsilon)
        target = float(card.get("target_rate", target_rate_of(str(setting))))
        return {
            "bpp_estimate": float(estimate), "target_rate": target,
            **latent_statistics(latents.residual), **self.bitstream_info(encoded.bitstream),
        }
