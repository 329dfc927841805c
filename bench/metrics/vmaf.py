"""VMAF (Netflix) v0.6.1 on a still image, higher is better, through an ffmpeg with libvmaf.

Each image is one frame: raw RGB is converted by ffmpeg to ``yuv444p`` (its default RGB to
YUV: BT.601, limited range; 4:4:4, so no chroma is lost) and scored by the ``libvmaf`` filter
with the ``vmaf_v0.6.1`` model built into libvmaf, one thread. The ffmpeg is, in order:
``--vmaf-ffmpeg PATH``, the static ffmpeg of the PyPI ``imageio-ffmpeg`` wheel (ffmpeg 7.0.2
with libvmaf 2.3.0; Debian's ffmpeg has no VMAF models), or ``ffmpeg`` on PATH.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bench.metrics.base import Column, Metric
from bench.metrics.external import ProgramUnavailable, find_program, run_program
from bench.options import option
from bench.weights import weights_sha256

MODEL = "vmaf_v0.6.1"
INSTALL = "pip install imageio-ffmpeg (its ffmpeg has libvmaf) or pass --vmaf-ffmpeg PATH to an ffmpeg built with libvmaf"


@dataclass(frozen=True)
class VMAFOptions:
    #: An ffmpeg with the libvmaf filter; None: imageio-ffmpeg's, else ``ffmpeg`` on PATH.
    ffmpeg: str | None = option(None, flag="--vmaf-ffmpeg", metavar="PATH",
                                help="an ffmpeg with libvmaf for the vmaf metric (default: imageio-ffmpeg's, else ffmpeg on PATH)")


def default_ffmpeg() -> str | None:
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    return imageio_ffmpeg.get_ffmpeg_exe()


@lru_cache(maxsize=None)
def has_libvmaf(ffmpeg: Path) -> bool:
    return " libvmaf " in run_program([str(ffmpeg), "-hide_banner", "-filters"], "vmaf", timeout=60)


def vmaf(reference: np.ndarray, reconstruction: np.ndarray, ffmpeg: Path) -> float:
    """VMAF v0.6.1 of ``reconstruction`` against ``reference`` (H x W x 3 uint8), one frame."""
    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape} vs reconstruction {reconstruction.shape}")
    height, width = reference.shape[:2]
    with tempfile.TemporaryDirectory(prefix="bench-vmaf-") as folder:
        inputs = []
        for name, image in (("distorted", reconstruction), ("reference", reference)):
            path = Path(folder) / f"{name}.rgb"
            path.write_bytes(np.ascontiguousarray(image).tobytes())
            inputs += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-i", str(path)]
        log = Path(folder) / "vmaf.json"
        graph = (
            f"[0:v]format=yuv444p[distorted];[1:v]format=yuv444p[reference];"
            f"[distorted][reference]libvmaf=model=version={MODEL}:log_fmt=json:log_path={log}:n_threads=1"
        )
        run_program([str(ffmpeg), "-hide_banner", "-loglevel", "error", *inputs, "-lavfi", graph, "-f", "null", "-"], "vmaf")
        return float(json.loads(log.read_text())["pooled_metrics"]["vmaf"]["mean"])


class VMAF(Metric):
    name = "vmaf"
    columns = (Column("vmaf", "VMAF", higher_is_better=True),)
    library = "imageio-ffmpeg"
    Options = VMAFOptions

    def ffmpeg(self) -> Path:
        program = find_program(self.options.ffmpeg or default_ffmpeg(), "ffmpeg", "vmaf", INSTALL)
        if not has_libvmaf(program):
            raise ProgramUnavailable(f"vmaf: {program} has no libvmaf filter; {INSTALL}")
        return program

    def check(self) -> None:
        self.ffmpeg()

    def signature(self) -> str:
        return f"vmaf:{MODEL}:yuv444p:{weights_sha256(self.ffmpeg())[:16]}"

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        return {"vmaf": vmaf(reference, reconstruction, self.ffmpeg())}
