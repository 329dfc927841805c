"""The report's sections, in the order the page shows them.

A section is one module here (its data from the run folder, as :class:`~bench.report.sections.base.Section`)
plus its template partial in ``bench/report/templates/sections/``; a new section is one module and
one entry of :data:`SECTIONS`. The contents bar is made from this list.
"""
from __future__ import annotations

from bench.report.sections import (
    bd_matrix,
    checks,
    comparisons,
    complexity,
    curves,
    per_image,
    published,
    run,
    verdict,
    viewer,
)
from bench.report.sections.base import DETAILS, RESULTS, ReportInputs, Section

SECTIONS: list[Section] = [
    verdict.SECTION, curves.SECTION, bd_matrix.SECTION, comparisons.SECTION, complexity.SECTION, checks.SECTION,
    viewer.SECTION, published.SECTION, per_image.SECTION, run.SECTION,
]

__all__ = ["DETAILS", "RESULTS", "SECTIONS", "ReportInputs", "Section"]
