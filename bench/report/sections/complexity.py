"""The learned codecs' complexity table (``complexity.csv``) and the decode-time plot."""
from __future__ import annotations

from typing import Any

from bench.codecs.complexity import TIMING_REPEATS
from bench.report.overview import shown_quantities
from bench.report.plots import decode_time_figure
from bench.report.sections.base import DETAILS, ReportInputs, Section


def data(inputs: ReportInputs) -> dict[str, Any]:
    run = inputs.run
    first = next((q for q in shown_quantities(run) if not q.distribution), None)
    rows = []
    if run.complexity is not None:
        # A run folder from before the repeats has no spread columns: its rows say one timing.
        rows = [{key: value for key, value in row.items() if not (key.endswith("_spread") and value != value)}
                for row in run.complexity.to_dict("records")]
    return {"complexity": {"rows": rows, "repeats": TIMING_REPEATS,
                           "plot": decode_time_figure(run, first) if first is not None else None}}


SECTION = Section("complexity", "Complexity", "complexity.html.j2", data, DETAILS)
