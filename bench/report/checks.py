"""The report's checks section: reference decoding per codec, and the suspicious rows with thumbnails.

The conformance table comes from the rows' ``reference_*`` columns (``bench run --verify``,
``bench/core/conformance.py``); the flags from :func:`bench.core.plausibility.flag_rows`. A flagged row
whose reconstruction was saved shows the original, the reconstruction and their difference,
each scaled to at most :data:`THUMBNAIL_SIZE` pixels wide.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image

from bench.core.conformance import conformance_table
from bench.core.plausibility import flag_rows
from bench.report.rundata import RunData
from bench.report.viewer import read_if_present, webp_data_uri

THUMBNAIL_SIZE = 256
THUMBNAIL_QUALITY = 85
#: Flagged rows shown with thumbnails; the rest are listed without.
MAX_THUMBNAILS = 24
#: The difference image multiplies the per-pixel error by this (a 64-level error is white).
DIFFERENCE_GAIN = 4


def thumbnail_uri(image: np.ndarray) -> str:
    """``image`` (H x W x 3 or H x W uint8) scaled to at most :data:`THUMBNAIL_SIZE` wide, as a WebP data URI."""
    picture = Image.fromarray(image)
    if picture.width > THUMBNAIL_SIZE:
        picture = picture.resize((THUMBNAIL_SIZE, round(picture.height * THUMBNAIL_SIZE / picture.width)), Image.Resampling.BOX)
    return webp_data_uri(picture, THUMBNAIL_QUALITY)


def difference_image(original: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """The largest absolute error over the channels, times :data:`DIFFERENCE_GAIN`, as a grey image."""
    error = np.abs(original.astype(np.int16) - reconstruction.astype(np.int16)).max(axis=2)
    return np.clip(error * DIFFERENCE_GAIN, 0, 255).astype(np.uint8)


def checks_section(run: RunData, originals: Mapping[str, Path]) -> dict[str, Any]:
    """The conformance table's rows, the flagged rows (reasons merged per row) and their thumbnails."""
    conformance = conformance_table(run.results)
    flags = flag_rows(run.results)
    flagged = []
    if not flags.empty:
        merged = flags.groupby(["codec", "image", "point"], sort=False).agg(
            bpp=("bpp", "first"), psnr=("psnr", "first"), recon_path=("recon_path", "first"), reason=("reason", "; ".join),
        ).reset_index()
        for index, record in enumerate(merged.to_dict("records")):
            entry = {key: record[key] for key in ("codec", "image", "point", "bpp", "psnr", "reason")}
            entry["thumbnails"] = _thumbnails(run, record, originals) if index < MAX_THUMBNAILS else None
            flagged.append(entry)
    return {
        "verified": not conformance.empty,
        "conformance": conformance.to_dict("records"),
        "flagged": flagged,
        "thumbnail_limit": MAX_THUMBNAILS,
    }


def _thumbnails(run: RunData, record: dict[str, Any], originals: Mapping[str, Path]) -> dict[str, str] | None:
    """Original, reconstruction and difference of a flagged row, or None without a saved reconstruction."""
    reconstruction = read_if_present(run.reconstruction(record))
    original = read_if_present(originals.get(record["image"]))
    if reconstruction is None or original is None or original.shape != reconstruction.shape:
        return None
    return {
        "original": thumbnail_uri(original),
        "reconstruction": thumbnail_uri(reconstruction),
        "difference": thumbnail_uri(difference_image(original, reconstruction)),
    }
