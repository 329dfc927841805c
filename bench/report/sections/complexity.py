"""The learned codecs' complexity table (``complexity.csv``) and the decode-time plot."""
from __future__ import annotations

from typing import Any

from bench.report.overview import shown_quantities
from bench.report.plots import decode_time_figure
from bench.report.sections.base import DETAILS, ReportInputs, Section


def data(inputs: ReportInputs) -> dict[str, Any]:
    run = inputs.run
    first = next((q for q in shown_quantities(run) if not q.distribution), None)
    return {"complexity": {"rows": run.complexity.to_dict("records") if run.complexity is not None else [],
                           "plot": decode_time_figure(run, first) if first is not None else None}}


SECTION = Section("complexity", "Complexity", "complexity.html.j2", data, DETAILS)
