"""The image viewer: crops of the originals and reconstructions (see :mod:`bench.report.viewer`)."""
from __future__ import annotations

from typing import Any

from bench.report.sections.base import DETAILS, ReportInputs, Section
from bench.report.viewer import CROP_QUALITY, CROP_SIZE, build_viewer


def data(inputs: ReportInputs) -> dict[str, Any]:
    return {"viewer": build_viewer(inputs.run, inputs.originals, inputs.viewer_images),
            "crop_size": CROP_SIZE, "crop_quality": CROP_QUALITY}


SECTION = Section("viewer", "Images", "viewer.html.j2", data, DETAILS)
