"""The rate-distortion curves: one interactive plot per metric (and, on request, SVG/PDF files for papers)."""
from __future__ import annotations

from typing import Any

from bench.report.plots import interactive_figure, save_figures
from bench.report.sections.base import ReportInputs, Section


def data(inputs: ReportInputs) -> dict[str, Any]:
    by_quantity = inputs.plot_data
    if inputs.figures_dir is not None:
        save_figures([plot for plot in by_quantity.values() if plot is not None], inputs.figures_dir)
    plots = [{"quantity": q, "id": f"plot-{index}",
              "figure": interactive_figure(by_quantity[q.column]) if by_quantity[q.column] is not None else None}
             for index, q in enumerate(inputs.run.quantities)]
    return {"plots": plots}


SECTION = Section("plots", "Curves", "curves.html.j2", data)
