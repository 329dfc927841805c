"""Butteraugli (Alakuijala et al., JPEG XL), lower is better: the max norm and the 3-norm.

Computed by libjxl's reference tool ``butteraugli_main`` (Debian package ``libjxl-devtools``)
on binary PPM copies of the two images (no encoding to speak of; the tool reads them as the
same sRGB pixels as a PNG, with the same scores), which it reads as sRGB at its default
intensity target (80 nits). Its first output line is the max norm, the second
``3-norm: <value>``. The reference's copy is written once per reference image
(:class:`ReferenceFile`) and compared with each reconstruction.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.metrics.base import Column, Metric
from bench.metrics.external import find_program, run_program
from bench.options import option
from bench.weights import weights_sha256

PROGRAM = "butteraugli_main"
INSTALL = "install Debian's libjxl-devtools (sudo apt-get install libjxl-devtools) or pass --butteraugli-binary PATH"
_NORM = re.compile(r"^\s*([0-9.eE+-]+)\s*\n\s*3-norm:\s*([0-9.eE+-]+)", re.M)


@dataclass(frozen=True)
class ButteraugliOptions:
    #: The ``butteraugli_main`` program: a path, or a name on PATH; None: ``butteraugli_main``.
    binary: str | None = option(None, flag="--butteraugli-binary", metavar="PATH",
                                help="libjxl's butteraugli_main for the butteraugli metric (default: butteraugli_main on PATH)")


def write_ppm(image: np.ndarray, path: Path) -> None:
    """An H x W x 3 uint8 image as a binary PPM (P6) file."""
    height, width = image.shape[:2]
    path.write_bytes(b"P6\n%d %d\n255\n" % (width, height) + np.ascontiguousarray(image).tobytes())


class ReferenceFile:
    """A reference image's PPM copy in a temporary folder, removed with this object."""

    def __init__(self, reference: np.ndarray) -> None:
        self.shape = reference.shape
        self._folder = tempfile.TemporaryDirectory(prefix="bench-butteraugli-")
        self.path = Path(self._folder.name) / "reference.ppm"
        write_ppm(reference, self.path)


def butteraugli_prepared(reference: ReferenceFile, reconstruction: np.ndarray, program: Path) -> tuple[float, float]:
    """:func:`butteraugli` of ``reconstruction`` against the reference written to ``reference``."""
    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape} vs reconstruction {reconstruction.shape}")
    with tempfile.TemporaryDirectory(prefix="bench-butteraugli-") as folder:
        distorted = Path(folder) / "distorted.ppm"
        write_ppm(reconstruction, distorted)
        output = run_program([str(program), str(reference.path), str(distorted), "--pnorm", "3"], "butteraugli")
    match = _NORM.search(output)
    if match is None:
        raise RuntimeError(f"butteraugli: cannot read {program.name}'s output {output.strip()[:80]!r}")
    return float(match.group(1)), float(match.group(2))


def butteraugli(reference: np.ndarray, reconstruction: np.ndarray, program: Path) -> tuple[float, float]:
    """(max norm, 3-norm) of two H x W x 3 uint8 sRGB images, from ``program``."""
    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape} vs reconstruction {reconstruction.shape}")
    return butteraugli_prepared(ReferenceFile(reference), reconstruction, program)


class Butteraugli(Metric):
    name = "butteraugli"
    columns = (
        Column("butteraugli_max", "Butteraugli (max norm)", higher_is_better=False),
        Column("butteraugli_3norm", "Butteraugli (3-norm)", higher_is_better=False),
    )
    library = ""
    Options = ButteraugliOptions

    def program(self) -> Path:
        return find_program(self.options.binary, PROGRAM, "butteraugli", INSTALL)

    def check(self) -> None:
        self.program()

    def signature(self) -> str:
        return f"butteraugli:{weights_sha256(self.program())[:16]}"

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        return self.measure_prepared(self.prepare_reference(reference), reconstruction)

    def prepare_reference(self, reference: np.ndarray) -> ReferenceFile:
        return ReferenceFile(reference)

    def measure_prepared(self, prepared: ReferenceFile, reconstruction: np.ndarray) -> dict[str, float]:
        maximum, three_norm = butteraugli_prepared(prepared, reconstruction, self.program())
        return {"butteraugli_max": maximum, "butteraugli_3norm": three_norm}
