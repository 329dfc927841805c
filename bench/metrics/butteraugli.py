"""Butteraugli (Alakuijala et al., JPEG XL), lower is better: the max norm and the 3-norm.

Computed by libjxl's reference tool ``butteraugli_main`` (Debian package ``libjxl-devtools``)
on lossless PNG copies of the two images, which it reads as sRGB at its default intensity
target (80 nits). Its first output line is the max norm, the second ``3-norm: <value>``.
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


def butteraugli(reference: np.ndarray, reconstruction: np.ndarray, program: Path) -> tuple[float, float]:
    """(max norm, 3-norm) of two H x W x 3 uint8 sRGB images, from ``program``."""
    from PIL import Image

    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape} vs reconstruction {reconstruction.shape}")
    with tempfile.TemporaryDirectory(prefix="bench-butteraugli-") as folder:
        paths = [Path(folder) / "reference.png", Path(folder) / "distorted.png"]
        for image, path in zip((reference, reconstruction), paths):
            Image.fromarray(np.ascontiguousarray(image)).save(path, compress_level=1)
        output = run_program([str(program), str(paths[0]), str(paths[1]), "--pnorm", "3"], "butteraugli")
    match = _NORM.search(output)
    if match is None:
        raise RuntimeError(f"butteraugli: cannot read {program.name}'s output {output.strip()[:80]!r}")
    return float(match.group(1)), float(match.group(2))


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
        maximum, three_norm = butteraugli(reference, reconstruction, self.program())
        return {"butteraugli_max": maximum, "butteraugli_3norm": three_norm}
