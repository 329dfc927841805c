"""The matched-bpp comparisons of ``--compare`` pairs (one pair, or several pairs compared together)."""
from __future__ import annotations

from typing import Any, Sequence

from bench.report.grouped import tabulate
from bench.report.sections.base import ReportInputs, Section


def comparison(inputs: ReportInputs, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    shown = tabulate(inputs.run, pairs, via=inputs.via)
    title = (f"{pairs[0][1]} against {pairs[0][0]}" if len(pairs) == 1
             else f"{len(pairs)} pairs: " + ", ".join(f"{b} against {a}" for a, b in pairs))
    return {"title": title, "grouped": len(pairs) > 1, "legend": shown.legend, "points": shown.bpp_points,
            "verdict": shown.verdict, "columns": list(shown.table.columns), "rows": shown.table.values.tolist()}


def data(inputs: ReportInputs) -> dict[str, Any]:
    return {"comparisons": [comparison(inputs, group) for group in inputs.groups]}


SECTION = Section("compare", "Comparisons", "comparisons.html.j2", data)
