"""What a report section is, and what every section may read: :class:`Section`, :class:`ReportInputs`."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

if TYPE_CHECKING:
    from bench.report.overview import Overview
    from bench.report.plots import PlotData
    from bench.report.published import PublishedSource
    from bench.report.rundata import RunData

#: :attr:`Section.group` values: the contents bar shows each group on a line of its own.
RESULTS, DETAILS = "results", "details"


@dataclass(frozen=True)
class ReportInputs:
    """Everything the sections of one report read: the run folder's data and the report's options
    (``bench report`` flags). Values that several sections need are computed once, here."""

    run: "RunData"
    anchor: str
    #: The comparisons, each one pair ``[(A, B)]`` or several pairs compared together.
    groups: Sequence[Sequence[tuple[str, str]]] = ()
    #: Image name -> original file (for the viewer and the checks' thumbnails).
    originals: Mapping[str, Path] = field(default_factory=dict)
    sources: Sequence["PublishedSource"] = ()
    viewer_images: int = 24
    #: Also write each plot as SVG and PDF here (matplotlib, for papers).
    figures_dir: Path | None = None
    #: The codec (or codecs) whose curves single-point codecs are also read against.
    via: str | Sequence[str] | None = None

    @cached_property
    def header(self) -> dict[str, Any]:
        """The run's facts: datasets, images, codecs, rows, versions, machine, dates, command line."""
        run, meta = self.run, self.run.metadata
        return {
            "datasets": ", ".join(run.datasets),
            "images": run.results["image"].nunique(),
            "codecs": run.codecs,
            "rows": len(run.results),
            "failed": run.failed,
            "bench_version": meta.get("bench_version", "unknown"),
            "git_commit": meta.get("git_commit", "unknown"),
            "libraries": meta.get("library_versions", {}),
            "machine": meta.get("machine", {}),
            "started": meta.get("first_started") or meta.get("started") or "unknown",
            "finished": meta.get("finished") or "unknown",
            "command_line": meta.get("command_line", "unknown"),
            "has_metadata": bool(meta),
        }

    @cached_property
    def overview(self) -> "Overview":
        """The BD-rates against the anchor that the verdict and the matrix show."""
        from bench.report.overview import overview

        return overview(self.run, self.anchor)

    @cached_property
    def plot_data(self) -> dict[str, "PlotData | None"]:
        """Each quantity's curves (None where the run has no value of it)."""
        from bench.report.plots import plot_data

        return {q.column: plot_data(self.run, q, self.sources) if self.run.available(q) else None for q in self.run.quantities}


@dataclass(frozen=True)
class Section:
    """One section of the report: its anchor and contents label, its template partial
    (``templates/sections/`` of ``package``, by default ``bench/report/templates/sections/``) and
    the function that gives the partial its values from the :class:`ReportInputs` (None: the
    section is left out of this report)."""

    id: str
    contents: str
    template: str
    data: Callable[[ReportInputs], dict[str, Any] | None]
    group: str = RESULTS
    #: The package whose ``templates/sections/`` holds the partial (a section of another package,
    #: such as :mod:`bench.study.report`, ships its own).
    package: str = "bench.report"


def format_number(value: Any) -> str:
    """A table cell: floats to 4 decimals (1 from 100 up), NaN empty, anything else as text."""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)
