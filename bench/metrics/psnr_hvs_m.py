"""PSNR-HVS-M and PSNR-HVS (Ponomarenko et al. 2006/2007) through the ``psnr-hvsm`` package.

Its C++ backend (FFTW DCT) on the Y plane of :mod:`bench.metrics.ctc` in [0, 1], padded by
edge replication to a multiple of 8 on each side, as JPEG AI's reference software does.
Identical planes give 100 dB (the package's convention). Higher is better.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np

from bench.errors import BenchError
from bench.metrics.base import Column, Metric
from bench.metrics.ctc import PreparedPlanes, ctc_luma

#: The DCT block of both metrics.
BLOCK = 8


def pad_to_blocks(plane: np.ndarray) -> np.ndarray:
    """``plane`` padded at the bottom and right by edge replication to multiples of :data:`BLOCK`."""
    height, width = plane.shape
    return np.pad(plane, ((0, -height % BLOCK), (0, -width % BLOCK)), mode="edge")


def padded_plane(plane: np.ndarray) -> np.ndarray:
    """An H x W plane as float64, padded to whole blocks (:func:`pad_to_blocks`)."""
    return pad_to_blocks(np.asarray(plane, np.float64))


def psnr_hvs_hvsm(reference: np.ndarray, reconstruction: np.ndarray) -> tuple[float, float]:
    """(PSNR-HVS, PSNR-HVS-M) in dB of two H x W planes in [0, 1]."""
    return psnr_hvs_hvsm_padded(padded_plane(reference), padded_plane(reconstruction))


def psnr_hvs_hvsm_padded(reference: np.ndarray, reconstruction: np.ndarray) -> tuple[float, float]:
    """:func:`psnr_hvs_hvsm` of two planes already padded by :func:`padded_plane`."""
    # The package prints a note about its optional torch backend when imported.
    with contextlib.redirect_stdout(io.StringIO()):
        from psnr_hvsm import BACKENDS

    # The C++ backend, the package's fastest; its numpy default is the same algorithm.
    hvs, hvsm = BACKENDS["cpp"]["psnr_hvs_hvsm"](reference, reconstruction)
    return float(hvs), float(hvsm)


class PSNRHVSM(Metric):
    name = "psnr_hvs_m"
    columns = (
        Column("psnr_hvs_m", "PSNR-HVS-M", higher_is_better=True, unit="dB"),
        Column("psnr_hvs", "PSNR-HVS", higher_is_better=True, unit="dB"),
    )
    library = "psnr-hvsm"

    def check(self) -> None:
        # An optional extra: psnr-hvsm is GPL-3.0, so the MIT package does not depend on it.
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                import psnr_hvsm  # noqa: F401
        except ImportError:
            raise BenchError("psnr_hvs_m: needs the GPL-3.0 package psnr-hvsm; pip install 'codec-bench[gpl]'") from None

    def signature(self) -> str:
        return "psnr_hvs_m:psnr-hvsm-cpp:y-bt709-10bit"

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        return self.measure_prepared(self.prepare_reference(reference), reconstruction)

    def prepare_reference(self, reference: np.ndarray) -> PreparedPlanes:
        return PreparedPlanes(reference.shape, padded_plane(ctc_luma(reference)))

    def measure_prepared(self, prepared: PreparedPlanes, reconstruction: np.ndarray) -> dict[str, float]:
        prepared.check(reconstruction)
        hvs, hvsm = psnr_hvs_hvsm_padded(prepared.planes, padded_plane(ctc_luma(reconstruction)))
        return {"psnr_hvs_m": hvsm, "psnr_hvs": hvs}
