"""The codec interface: one 8-bit RGB image and one setting in, one bitstream out.

A codec is a small class. The runner calls :meth:`Codec.encode` to get the bitstream,
measures its length, and calls :meth:`Codec.decode` on exactly those bytes to get the
image it scores. Nothing the encoder kept is ever measured.

Only the encode and the decode are timed. Loading a model and warming it up
(:meth:`Codec.prepare`) and any analysis of the encoding for extra columns
(:meth:`Codec.analyse`) happen outside the timed calls.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from bench.device import AUTO

if TYPE_CHECKING:
    import numpy as np

    from bench.codecs.reference import ReferenceDecoder

#: A codec's own setting value: int/float for a quality knob, str for a checkpoint name.
Setting = int | float | str


class CodecUnavailable(RuntimeError):
    """The library behind a codec is not importable on this machine."""


def bits_per_pixel(bitstream: bytes, image: np.ndarray) -> float:
    """Bits of ``bitstream`` per pixel of the H x W (x 3) ``image``: ``8 * bytes / (H * W)``."""
    return 8.0 * len(bitstream) / (image.shape[0] * image.shape[1])


@dataclass
class EncodeResult:
    """A bitstream, plus whatever the codec wants to analyse after the timed encode.

    ``context`` is the codec's own business (a learned codec keeps its latents there, so that
    :meth:`Codec.analyse` need not recompute them); the runner only passes it back.
    """

    bitstream: bytes
    context: Any = None


class Codec:
    """Base class for a lossy image codec.

    Subclasses set ``name``, ``default_settings`` and ``library`` and implement
    :meth:`encode` and :meth:`decode`. Instances must be picklable (they are sent to
    worker processes); load heavy state lazily (in :meth:`prepare`) and cache it on the
    instance.
    """

    name: ClassVar[str] = ""
    #: The settings grid used when the user gives none, ordered from low to high rate.
    default_settings: ClassVar[Sequence[Setting]] = ()
    #: The distribution whose version is recorded in each row (e.g. "pillow").
    library: ClassVar[str] = ""
    #: For rate control: the inclusive range of a numeric quality knob, or None.
    quality_range: ClassVar[tuple[int, int] | None] = None
    #: True when a larger setting gives more bits (the usual case for "quality").
    higher_setting_more_bits: ClassVar[bool] = True
    description: ClassVar[str] = ""
    #: The dataclass of options :meth:`instances` takes (None: the codec takes none).
    Options: ClassVar[type | None] = None
    #: An independent decoder of this codec's bitstreams, used by ``bench run --verify``
    #: (:mod:`bench.codecs.reference`); None when there is none.
    reference_decoder: ClassVar["ReferenceDecoder | None"] = None
    #: The extra columns :meth:`analyse` fills, name -> meaning (the run core declares the others,
    #: ``bench/core/rows.py``; metrics declare theirs).
    analysis_columns: ClassVar[dict[str, str]] = {}
    #: File name extension of a saved bitstream (``--save-bitstreams``), e.g. ``.jpg``.
    file_extension: ClassVar[str] = ".bin"
    #: The torch device of its networks: ``auto`` until the run gives one (:meth:`use_device`).
    device: str = AUTO

    def __init__(self, options: Any = None) -> None:
        #: An ``Options`` instance (its defaults when none is given), or None for a codec without options.
        self.options = options if options is not None else (self.Options() if self.Options else None)
    #: Peak memory of one encode + decode, in bytes per image pixel (``bench/core/memory.py``;
    #: measured by benchmarks/peak_memory.py, docs/memory.md: JPEG 7, WebP 15).
    peak_bytes_per_pixel: ClassVar[float] = 16.0

    @classmethod
    def instances(cls, options: Any = None) -> dict[str, "Codec"]:
        """The codecs this class registers, by name, for ``options`` (an ``Options`` instance).

        One codec under :attr:`name` by default; a class over sets of checkpoints (HiFiC)
        registers one per family.
        """
        return {cls.name: cls(options)}

    @classmethod
    def names(cls, options: Any = None) -> list[str]:
        """The names :meth:`instances` gives for ``options``, found without building any codec."""
        return [cls.name]

    def check_available(self) -> None:
        """Raise :class:`CodecUnavailable` with a one-line reason if the codec cannot run."""

    def version(self) -> str:
        """Version string of the library behind the codec."""
        from bench.metadata import library_version

        return library_version(self.library)

    @property
    def settings(self) -> list[Setting]:
        return list(self.default_settings)

    def parse_setting(self, text: str) -> Setting:
        """Turn a setting typed on the command line into the codec's own value.

        Raises ``ValueError`` with the reason for a value the codec does not accept.
        """
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{self.name} settings are integers, not {text!r}") from None
        if self.quality_range is not None and not self.quality_range[0] <= value <= self.quality_range[1]:
            low, high = self.quality_range
            raise ValueError(f"{self.name} setting {value} is outside its range {low}..{high}")
        return value

    def use_device(self, device: str) -> None:
        """Run on torch ``device`` from now on (the runner gives each worker its own); a codec with
        networks also drops those it loaded elsewhere."""
        self.device = device

    def prepare(self, setting: Setting) -> None:
        """Load and warm up what coding at ``setting`` needs (a model, say); not timed.

        The runner calls it before each timed encode and decode, so it must be cheap once done.
        """

    def encode(self, image: np.ndarray, setting: Setting) -> bytes:
        """Compress an H x W x 3 uint8 RGB array to a self-contained bitstream."""
        raise NotImplementedError

    def decode(self, bitstream: bytes) -> np.ndarray:
        """Decode a bitstream from :meth:`encode` back to an H x W x 3 uint8 RGB array."""
        raise NotImplementedError

    def encode_with_context(self, image: np.ndarray, setting: Setting) -> EncodeResult:
        """:meth:`encode`, keeping what :meth:`analyse` will want; the default keeps nothing."""
        return EncodeResult(self.encode(image, setting))

    def analyse(self, image: np.ndarray, setting: Setting, encoded: EncodeResult) -> dict[str, float]:
        """Extra numeric columns for the row (a likelihood estimate, latent statistics...); not timed.

        They are reported beside the real size, never instead of it. The default has none.
        """
        return {}

    def complexity(self, image: np.ndarray, setting: Setting) -> dict[str, float] | None:
        """For learned codecs: parameters, kMAC per pixel, peak memory and the time split of coding
        ``image`` at ``setting`` (:mod:`bench.codecs.complexity`), measured once per run and setting
        outside the timed rows; None for codecs without networks."""
        return None

    def decoded_latent(self, bitstream: bytes) -> np.ndarray:
        """For learned codecs: the latent the entropy decoder recovers from ``bitstream`` (before
        the synthesis network), which a second decode must reproduce bit for bit."""
        raise NotImplementedError(f"{self.name} does not expose its decoded latent")

    def describe_settings(self) -> str:
        return ", ".join(str(s) for s in self.settings)


class PillowCodec(Codec):
    """A codec reached through one of Pillow's save handlers."""

    library: ClassVar[str] = "pillow"
    #: Pillow's format name passed to ``Image.save``.
    pillow_format: ClassVar[str] = ""
    #: Module to import first (a Pillow plugin that registers the format).
    plugin_module: ClassVar[str | None] = None

    def check_available(self) -> None:
        try:
            self._import_plugin()
        except ImportError as exc:
            raise CodecUnavailable(f"{self.name}: cannot import {self.plugin_module} ({exc})") from None
        from PIL import Image

        Image.init()
        if self.pillow_format.upper() not in Image.SAVE:
            raise CodecUnavailable(f"{self.name}: this Pillow build cannot write {self.pillow_format}")

    def _import_plugin(self) -> None:
        if self.plugin_module:
            __import__(self.plugin_module)

    def save_options(self, setting: Setting) -> dict[str, Any]:
        """Keyword arguments for ``Image.save`` at this setting."""
        return {"quality": int(setting)}

    def encode(self, image: np.ndarray, setting: Setting) -> bytes:
        from PIL import Image

        self._import_plugin()
        buffer = io.BytesIO()
        Image.fromarray(image, mode="RGB").save(buffer, format=self.pillow_format, **self.save_options(setting))
        return buffer.getvalue()

    def decode(self, bitstream: bytes) -> np.ndarray:
        from PIL import Image

        self._import_plugin()
        import numpy as np

        with Image.open(io.BytesIO(bitstream)) as decoded:
            return np.asarray(decoded.convert("RGB"))
