"""The image viewer's data: the same crop of the original and of every saved reconstruction.

Reconstructions are the files the rows name (``bench run --save-recon``). To keep the report small, each image contributes one centre crop of at most
:data:`CROP_SIZE` pixels square, re-encoded as WebP at :data:`CROP_QUALITY` and embedded as a
data URI; the report states the number of crops and their total size. The viewer picks, for
each codec, the reconstruction whose bpp is nearest the one the user chooses.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image

from bench.imageio import ImageReadError, read_image
from bench.report.rundata import RunData

CROP_SIZE = 256
CROP_QUALITY = 90


@dataclass
class ViewerData:
    """JSON-ready viewer payload, its embedded size, and why parts are missing."""

    images: list[dict[str, Any]] = field(default_factory=list)
    n_crops: int = 0
    embedded_bytes: int = 0
    notes: list[str] = field(default_factory=list)


def centre_crop_box(height: int, width: int, size: int = CROP_SIZE) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the centred ``size`` x ``size`` crop, clipped to the image."""
    crop_h, crop_w = min(size, height), min(size, width)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return top, left, top + crop_h, left + crop_w


def webp_data_uri(picture: Image.Image, quality: int) -> str:
    """``picture`` as a WebP data URI (embedded in the report, so that it opens with no other file)."""
    buffer = io.BytesIO()
    picture.save(buffer, format="WEBP", quality=quality, method=4)
    return "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def crop_data_uri(image: np.ndarray, box: tuple[int, int, int, int]) -> str:
    """The crop ``box`` of an H x W x 3 uint8 image as a WebP data URI."""
    top, left, bottom, right = box
    return webp_data_uri(Image.fromarray(np.ascontiguousarray(image[top:bottom, left:right])), CROP_QUALITY)


def read_if_present(path: Path | None) -> np.ndarray | None:
    """The image at ``path``, or None when there is no such readable file."""
    if path is None or not path.is_file():
        return None
    try:
        return read_image(path)
    except ImageReadError:
        return None


def _measured_size(rows: Any) -> tuple[int, int] | None:
    """(height, width) of the image the rows measured, where they say."""
    if not {"height", "width"} <= set(rows.columns):
        return None
    sizes = rows[["height", "width"]].dropna()
    return None if sizes.empty else (int(sizes.iloc[0]["height"]), int(sizes.iloc[0]["width"]))


def build_viewer(run: RunData, originals: Mapping[str, Path], max_images: int = 24) -> ViewerData:
    """Crops of up to ``max_images`` images: the original (if found in ``originals``) and each
    codec's saved reconstructions, with their bpp and metric values."""
    viewer = ViewerData()
    if "recon_path" not in run.results or run.results["recon_path"].isna().all():
        viewer.notes.append("No reconstructions in this run: run `bench run --save-recon` to see images here.")
        return viewer
    images = sorted(set(run.results["image"]))
    if len(images) > max_images:
        viewer.notes.append(f"Showing the first {max_images} of {len(images)} images (--viewer-images).")
    shown = [quantity for quantity in run.per_image_quantities if not quantity.db_of and quantity.column in run.results]
    missing_originals, other_originals = 0, []
    for image in images[:max_images]:
        rows = run.results[run.results["image"] == image].sort_values(["codec", "bpp"])
        original = read_if_present(originals.get(image))
        missing_originals += original is None
        if original is not None and _measured_size(rows) not in (None, original.shape[:2]):
            other_originals.append(image)  # a file of the same name, not the image the run measured
            original = None
        entry: dict[str, Any] = {"name": image, "original": None, "recons": []}
        box = None
        if original is not None:
            box = centre_crop_box(*original.shape[:2])
            entry["original"] = crop_data_uri(original, box)
        for _, row in rows.iterrows():
            reconstruction = read_if_present(run.reconstruction(row))
            if reconstruction is None:
                continue
            box = box or centre_crop_box(*reconstruction.shape[:2])
            values = {q.label: float(row[q.column]) for q in shown if np.isfinite(row[q.column])}
            entry["recons"].append(
                {"codec": row["codec"], "point": row["point"], "bpp": float(row["bpp"]), "values": values,
                 "uri": crop_data_uri(reconstruction, box)}
            )
        if box is not None:
            entry["box"] = list(box)
            viewer.images.append(entry)
    uris = [i["original"] for i in viewer.images if i["original"]] + [r["uri"] for i in viewer.images for r in i["recons"]]
    viewer.n_crops = len(uris)
    viewer.embedded_bytes = sum(len(uri) for uri in uris)
    if other_originals:
        viewer.notes.append(
            f"The file found as the original of {len(other_originals)} image(s) ({', '.join(other_originals[:3])}"
            f"{', ...' if len(other_originals) > 3 else ''}) has another size than the image the run measured; "
            "pass --originals DIR (the images given to `bench run`).")
    if missing_originals:
        viewer.notes.append(
            f"The original of {missing_originals} image(s) was not found; pass --originals DIR (the images given to `bench run`)."
        )
    if not viewer.images:
        viewer.notes.append("No reconstruction files were found under recon/ for the rows of this run.")
    return viewer
