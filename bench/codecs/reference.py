"""Reference decoders: a second, independent decoder of a codec's bitstreams.

A codec wrapper can break its decoder (a value that overflows 8 bits wrapping instead of
saturating, say) and the suite would then measure a broken decoder as a bad codec. So a codec
names a :class:`ReferenceDecoder` (:attr:`bench.codecs.base.Codec.reference_decoder`), and
``bench run --verify`` decodes every row's bitstream with it and compares the image with the
codec's own decode (:mod:`bench.core.conformance` records the outcome in the row).

Classical formats are checked by their reference tools (:class:`CommandLineDecoder`).
Learned codecs have no second implementation; :class:`FreshProcessDecoder` decodes their
bitstream in a fresh process with another torch thread count (on the CPU, when the codec
ran on a GPU), which must recover the identical latent and an image within 1 grey level.
"""
from __future__ import annotations

import functools
import multiprocessing
import multiprocessing.util
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from bench.codecs.fresh_process import FreshProcess

class Decoding(Protocol):
    """What a reference decoder needs of the codec it checks (a :class:`~bench.codecs.base.Codec`,
    named structurally so that this module stays below the codec interface)."""

    name: str

    def decode(self, bitstream: bytes) -> np.ndarray: ...

    def decoded_latent(self, bitstream: bytes) -> np.ndarray: ...


#: How a check ended: the start of :attr:`Verification.outcome`.
OK = "ok"
MISMATCH = "mismatch"
NOT_CHECKED = "not checked"
#: Seconds a reference tool may take for one image before the check gives up.
TOOL_TIMEOUT = 120


@dataclass(frozen=True)
class Verification:
    """The outcome of one check."""

    decoder: str
    max_diff: int | None
    outcome: str


class ReferenceDecoder:
    """A second decoder for a codec's bitstreams.

    ``tolerance`` is the largest difference in grey levels that still counts as agreement
    (0 where both decoders share one library; 1 where their colour conversions round
    differently). Subclasses implement :meth:`unavailable`, :meth:`describe` and :meth:`verify`.
    """

    tolerance: int = 0

    def unavailable(self) -> str | None:
        """Why this decoder cannot run here (``install ...``), or None."""
        return None

    def describe(self) -> str:
        """Name and version, as recorded in each row."""
        raise NotImplementedError

    def verify(self, codec: Decoding, bitstream: bytes, reconstruction: np.ndarray) -> Verification:
        raise NotImplementedError

    def compare(self, decoded: np.ndarray, reconstruction: np.ndarray, problem: str = "") -> Verification:
        """A :class:`Verification` from the reference's image and the codec's own."""
        if decoded.shape != reconstruction.shape:
            return Verification(self.describe(), None, f"{MISMATCH}: reference decoder gives {decoded.shape}, the codec {reconstruction.shape}")
        max_diff = int(np.abs(decoded.astype(np.int16) - reconstruction.astype(np.int16)).max())
        if problem:
            return Verification(self.describe(), max_diff, f"{MISMATCH}: {problem}")
        if max_diff > self.tolerance:
            return Verification(self.describe(), max_diff, f"{MISMATCH}: max difference {max_diff} > {self.tolerance} allowed")
        return Verification(self.describe(), max_diff, OK)


# --- reference tools ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def tool_version(tool: str, version_args: tuple[str, ...], package: str) -> str:
    """The version a tool prints (first ``d.d[.d]`` in its output), else its Debian package's, else ``unknown``."""
    path = shutil.which(tool)
    if path and version_args:
        try:
            output = subprocess.run([path, *version_args], capture_output=True, text=True, timeout=10)
            match = re.search(r"\d+\.\d+(?:\.\d+)?", output.stdout + output.stderr)
            if match:
                return match.group(0)
        except (OSError, subprocess.SubprocessError):
            pass
    if shutil.which("dpkg-query"):
        output = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True)
        match = re.search(r"(?:\d+:)?(\d+\.\d+(?:\.\d+)?)", output.stdout)
        if output.returncode == 0 and match:
            return match.group(1)
    return "unknown"


@dataclass(frozen=True)
class CommandLineDecoder(ReferenceDecoder):
    """A format's reference decoder as a command-line tool: bitstream file in, image file out.

    ``arguments`` holds ``{input}`` and ``{output}`` placeholders; ``output_suffix`` is the
    image format the tool writes (``.ppm`` or ``.png``), read back with Pillow.
    """

    tool: str
    package: str
    arguments: tuple[str, ...]
    input_suffix: str
    output_suffix: str = ".ppm"
    version_args: tuple[str, ...] = ()
    tolerance: int = 0

    def unavailable(self) -> str | None:
        if shutil.which(self.tool) is None:
            return f"install {self.package} ({self.tool} is not on PATH)"
        return None

    def describe(self) -> str:
        return f"{self.tool} {tool_version(self.tool, self.version_args, self.package)}"

    def decode(self, bitstream: bytes) -> np.ndarray:
        """The tool's decode of ``bitstream`` as an H x W x 3 uint8 array."""
        from PIL import Image

        with tempfile.TemporaryDirectory(prefix="bench-verify-") as folder:
            source, target = Path(folder) / f"in{self.input_suffix}", Path(folder) / f"out{self.output_suffix}"
            source.write_bytes(bitstream)
            command = [self.tool, *(part.format(input=source, output=target) for part in self.arguments)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
            if done.returncode != 0 or not target.is_file():
                message = " ".join((done.stderr or done.stdout).split())[-200:]
                raise RuntimeError(f"{self.tool} exited with {done.returncode}: {message or 'no output'}")
            with Image.open(target) as image:
                return np.asarray(image.convert("RGB"))

    def verify(self, codec: Decoding, bitstream: bytes, reconstruction: np.ndarray) -> Verification:
        return self.compare(self.decode(bitstream), reconstruction)


# --- learned codecs: a fresh process ------------------------------------------------------------

#: The fresh process of this process, started on first use.
_fresh: dict[str, Any] = {}


def other_thread_count(threads: int) -> int:
    """A torch thread count different from ``threads``: 1, or 2 when ``threads`` is 1."""
    return 2 if threads == 1 else 1


def _fresh_process(threads: int) -> "FreshProcess":
    """One fresh process per process that verifies (so nothing of the codec's state is shared)."""
    from bench.codecs.fresh_process import FreshProcess

    current = _fresh.get("process")
    if current is None or current.threads != threads or current.process.poll() is not None:
        shutdown_fresh_process()
        _fresh["process"] = FreshProcess(threads)
        # Ended when this process ends normally (it also dies with this process otherwise).
        multiprocessing.util.Finalize(None, shutdown_fresh_process, exitpriority=10)
    return _fresh["process"]


def shutdown_fresh_process() -> None:
    process = _fresh.pop("process", None)
    if process is not None:
        process.close()


class FreshProcessDecoder(ReferenceDecoder):
    """For learned codecs: decode again in a fresh process with another torch thread count.

    The codec must implement :meth:`~bench.codecs.base.Codec.decoded_latent` (the latent its
    entropy decoder recovers). The check passes when the fresh process recovers exactly the
    same latent and an image within :attr:`tolerance` grey levels: the entropy coding must be
    bit-exact across machines, while the synthesis network's float arithmetic may round
    differently with another thread count or device.
    """

    tolerance = 1

    def threads(self) -> int:
        import torch

        return other_thread_count(torch.get_num_threads())

    def describe(self) -> str:
        return f"fresh process, {self.threads()} torch thread(s), cpu"

    def verify(self, codec: Decoding, bitstream: bytes, reconstruction: np.ndarray) -> Verification:
        latent, decoded = _fresh_process(self.threads()).decode(codec, bitstream)
        own_latent = codec.decoded_latent(bitstream)
        problem = ""
        if own_latent.shape != latent.shape or not np.array_equal(own_latent, latent):
            differing = int(np.sum(own_latent != latent)) if own_latent.shape == latent.shape else own_latent.size
            problem = f"the fresh process recovers another latent ({differing} of {own_latent.size} values differ)"
        return self.compare(decoded, reconstruction, problem)
