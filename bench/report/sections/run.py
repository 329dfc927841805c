"""The run's facts: dataset, codecs, rows used, versions, machine, dates, command line."""
from __future__ import annotations

from typing import Any

from bench.report.sections.base import DETAILS, ReportInputs, Section


def data(inputs: ReportInputs) -> dict[str, Any]:
    return {"header": inputs.header}


SECTION = Section("run", "Run", "run.html.j2", data, DETAILS)
