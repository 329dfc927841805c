"""The verdict: per metric, the codecs ranked by BD-rate against the anchor, and the best codec at three rates."""
from __future__ import annotations

import math
from typing import Any

from bench.report.sections.base import ReportInputs, Section


def bd_text(estimate: Any, without_interval: str = "") -> str:
    """A BD-rate as ``+1.2 % [-0.3, +2.8]``; ``without_interval`` follows when it has none."""
    interval = f" [{estimate.low:+.1f}, {estimate.high:+.1f}]" if math.isfinite(estimate.low) else without_interval
    return f"{estimate.mean:+.1f} %{interval}"


def footnote_marks(inputs: ReportInputs) -> dict[str, str]:
    """Each reason a BD-rate is n/a -> its footnote letter (shared by the verdict and the matrix)."""
    return {reason: chr(ord("a") + index) for index, reason in enumerate(inputs.overview.footnotes())}


def data(inputs: ReportInputs) -> dict[str, Any]:
    result, marks = inputs.overview, footnote_marks(inputs)
    verdicts = []
    for quantity in result.quantities:
        ranking = [{"codec": codec, "text": bd_text(estimate)} for codec, estimate in result.ranking(quantity)]
        best = [{"position": name, "bpp": rate, "codec": codec, "value": value, "reaching": reaching}
                for name, rate, codec, value, reaching in result.best_at.get(quantity.column, [])]
        unranked = [{"codec": codec, "mark": marks[cells[quantity.column].reason]}
                    for codec, cells in result.cells.items() if cells[quantity.column].estimate is None]
        verdicts.append({"quantity": quantity, "ranking": ranking, "best": best, "unranked": unranked})
    return {"header": inputs.header, "anchor": inputs.anchor, "overview": {"verdicts": verdicts}}


SECTION = Section("verdict", "Verdict", "verdict.html.j2", data)
