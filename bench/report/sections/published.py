"""The published reference points on the run's datasets, with each source's card."""
from __future__ import annotations

from typing import Any

from bench.report.sections.base import DETAILS, ReportInputs, Section, format_number


def data(inputs: ReportInputs) -> dict[str, Any]:
    sources, points = inputs.sources, []
    for source in sources:
        for dataset in inputs.run.datasets:
            points.extend(source.points[source.points["dataset"].str.lower() == dataset.lower()].to_dict("records"))
    columns = list(dict.fromkeys(column for source in sources for column in source.points.columns))
    return {"header": inputs.header, "published": {
        "sources": [{"name": s.name, "card": s.card} for s in sources],
        "columns": columns,
        "rows": [[format_number(p.get(c, "")) for c in columns] for p in points],
    }}


SECTION = Section("published", "Published points", "published.html.j2", data, DETAILS)
