"""The BD-rate matrix: every codec against the anchor on every metric, with intervals and shading."""
from __future__ import annotations

import math
from typing import Any

from bench.report.sections.base import ReportInputs, Section
from bench.report.sections.verdict import bd_text, footnote_marks


def shade(estimate: Any) -> str:
    """A cell colour: green for fewer bits than the anchor, red for more, paler when the interval
    contains 0 or the difference is small."""
    strength = min(abs(estimate.mean) / 50.0, 1.0) * (1.0 if estimate.significant or not math.isfinite(estimate.low) else 0.35)
    hue = "46, 160, 67" if estimate.mean < 0 else "214, 39, 40"
    return f"rgba({hue}, {0.08 + 0.5 * strength:.2f})"


def data(inputs: ReportInputs) -> dict[str, Any]:
    result, marks = inputs.overview, footnote_marks(inputs)
    first = result.quantities[0] if result.quantities else None
    order = [codec for codec, _ in result.ranking(first)] if first else []
    order += [codec for codec in result.cells if codec not in order]
    matrix = []
    for codec in order:
        cells = []
        for quantity in result.quantities:
            estimate = result.cells[codec][quantity.column].estimate
            if estimate is None:
                cells.append({"text": "n/a", "mark": marks[result.cells[codec][quantity.column].reason], "shade": ""})
            else:
                cells.append({"text": bd_text(estimate, " (mean curves)"), "mark": "", "shade": shade(estimate)})
        matrix.append({"codec": codec, "cells": cells})
    return {"anchor": inputs.anchor, "overview": {"matrix": matrix, "quantities": result.quantities,
                                                  "footnotes": [(marks[r], r) for r in result.footnotes()]}}


SECTION = Section("bd-rates", "BD-rate matrix", "bd_matrix.html.j2", data)
