"""The checks: reference decoding per codec and the suspicious rows (see :mod:`bench.report.checks`)."""
from __future__ import annotations

from typing import Any

from bench.report.checks import checks_section
from bench.report.sections.base import DETAILS, ReportInputs, Section


def data(inputs: ReportInputs) -> dict[str, Any]:
    return {"checks": checks_section(inputs.run, inputs.originals)}


SECTION = Section("checks", "Checks", "checks.html.j2", data, DETAILS)
