"""Assembling the self-contained HTML report from a run directory.

Every section is computed here into plain values and rendered by
``templates/report.html.j2`` with jinja2 autoescaping on, so every name from the data (image
file names, codec names) reaches the page as text. Plots and image crops are data URIs and
the CSS and JavaScript are inline: the file opens from disk with no network.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import jinja2

from bench.errors import BenchError
from bench.report.checks import checks_section
from bench.report.grouped import tabulate
from bench.report.overview import overview, shown_quantities
from bench.report.plots import decode_time_figure, interactive_figure, plot_data, save_figures
from bench.report.published import PublishedSource, load_published
from bench.report.rundata import RunData, load_run
from bench.report.viewer import CROP_QUALITY, CROP_SIZE, build_viewer

#: plotly.js's basic bundle (MIT; see bench/report/static/README.md), inlined into every report.
PLOTLY_JS = Path(__file__).resolve().parent / "static" / "plotly-basic.min.js"
#: Per-image table columns before the metrics' own, in order, when the run has them.
LEADING_COLUMNS = ("image", "codec", "point", "setting", "bpp")
#: Rows the per-image table shows at most (the first, by image, codec and bpp): past this a report
#: would grow by about 1 kB per row; every row is in the run folder's results.csv.
PER_IMAGE_ROWS = 5000
#: Columns of the results table the per-image table leaves out (they describe the run, not the row).
HIDDEN_COLUMNS = (
    "dataset", "width", "height", "codec_version", "status", "error", "recon_path", "bitstream_path", "reference_decoder",
)


def parse_pair(text: str) -> tuple[str, str]:
    """``"A:B"`` -> ``("A", "B")``; a one-line error for anything else."""
    a, separator, b = text.partition(":")
    if not separator or not a or not b or ":" in b:
        raise ValueError(f"--compare {text!r}: expected two codec names as A:B, e.g. hific-dense:hific-sparse")
    return a, b


def find_originals(run: RunData, originals_dir: Path | None = None) -> dict[str, Path]:
    """Image name -> original file: in ``originals_dir`` if given, else the run's dataset copy."""
    if originals_dir is not None:
        return {image: Path(originals_dir) / image for image in set(run.results["image"])}
    from bench import datasets

    found: dict[str, Path] = {}
    for dataset in run.datasets:
        try:
            paths = datasets.resolve(dataset, download=False)
        except Exception:  # noqa: BLE001 - unknown or absent dataset: the viewer says the original is missing
            continue
        found.update({path.name: path for path in paths})
    return found


def _header(run: RunData) -> dict[str, Any]:
    meta = run.metadata
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


def _number(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def _per_image_table(run: RunData) -> dict[str, Any]:
    """The leading columns, each per-image metric's, then every other column rows carry
    (codec facts such as ``bpp_estimate``, rate control's ``n_encodes``, timing)."""
    metrics = [quantity.column for quantity in run.per_image_quantities]
    shown = [*LEADING_COLUMNS, *metrics]
    rest = [column for column in run.results if column not in shown and column not in HIDDEN_COLUMNS]
    columns = [column for column in [*shown, *rest] if column in run.results and run.results[column].notna().any()]
    numeric = {column for column in columns if run.results[column].dtype.kind in "fiu"}
    # Sorted by three columns, then only the rows shown are copied (not the whole table).
    first = run.results[["image", "codec", "bpp"]].sort_values(["image", "codec", "bpp"]).index[:PER_IMAGE_ROWS]
    shown_rows = run.results.loc[first, columns]
    rows = [[(_number(record[c]), c in numeric) for c in columns] for record in shown_rows.to_dict("records")]
    return {"columns": columns, "rows": rows, "total": len(run.results)}


def _published(run: RunData, sources: list[PublishedSource]) -> dict[str, Any]:
    points = []
    for source in sources:
        for dataset in run.datasets:
            rows = source.points[source.points["dataset"].str.lower() == dataset.lower()]
            points.extend(rows.to_dict("records"))
    columns = list(dict.fromkeys(column for source in sources for column in source.points.columns))
    return {
        "sources": [{"name": s.name, "card": s.card} for s in sources],
        "columns": columns,
        "rows": [[_number(p.get(c, "")) for c in columns] for p in points],
    }


def _bd_text(estimate: Any, without_interval: str = "") -> str:
    """A BD-rate as ``+1.2 % [-0.3, +2.8]``; ``without_interval`` follows when it has none."""
    interval = f" [{estimate.low:+.1f}, {estimate.high:+.1f}]" if math.isfinite(estimate.low) else without_interval
    return f"{estimate.mean:+.1f} %{interval}"


def _overview(run: RunData, anchor: str) -> dict[str, Any]:
    """The verdict and the BD matrix as plain values for the template."""
    result = overview(run, anchor)
    footnotes = result.footnotes()
    marks = {reason: chr(ord("a") + index) for index, reason in enumerate(footnotes)}
    first = result.quantities[0] if result.quantities else None
    order = [codec for codec, _ in result.ranking(first)] if first else []
    order += [codec for codec in result.cells if codec not in order]
    matrix = []
    for codec in order:
        cells = []
        for quantity in result.quantities:
            cell = result.cells[codec][quantity.column]
            estimate = cell.estimate
            if estimate is None:
                cells.append({"text": "n/a", "mark": marks[cell.reason], "shade": ""})
                continue
            cells.append({"text": _bd_text(estimate, " (mean curves)"), "mark": "", "shade": _shade(estimate)})
        matrix.append({"codec": codec, "cells": cells})
    verdicts = []
    for quantity in result.quantities:
        ranking = [{"codec": codec, "text": _bd_text(estimate)} for codec, estimate in result.ranking(quantity)]
        best = [{"position": name, "bpp": rate, "codec": codec, "value": value, "reaching": reaching}
                for name, rate, codec, value, reaching in result.best_at.get(quantity.column, [])]
        unranked = [{"codec": codec, "mark": marks[cells[quantity.column].reason]}
                    for codec, cells in result.cells.items() if cells[quantity.column].estimate is None]
        verdicts.append({"quantity": quantity, "ranking": ranking, "best": best, "unranked": unranked})
    return {"matrix": matrix, "quantities": result.quantities, "footnotes": [(marks[r], r) for r in footnotes],
            "verdicts": verdicts}


def _comparison(run: RunData, pairs: Sequence[tuple[str, str]], via: str | Sequence[str] | None) -> dict[str, Any]:
    """One pair's comparison, or several pairs' grouped comparison, as plain values for the template."""
    shown = tabulate(run, pairs, via=via)
    title = (f"{pairs[0][1]} against {pairs[0][0]}" if len(pairs) == 1
             else f"{len(pairs)} pairs: " + ", ".join(f"{b} against {a}" for a, b in pairs))
    return {"title": title, "grouped": len(pairs) > 1, "legend": shown.legend, "points": shown.bpp_points,
            "verdict": shown.verdict, "columns": list(shown.table.columns), "rows": shown.table.values.tolist()}


def _shade(estimate: Any) -> str:
    """A cell colour: green for fewer bits than the anchor, red for more, paler when the interval
    contains 0 or the difference is small."""
    strength = min(abs(estimate.mean) / 50.0, 1.0) * (1.0 if estimate.significant or not math.isfinite(estimate.low) else 0.35)
    hue = "46, 160, 67" if estimate.mean < 0 else "214, 39, 40"
    return f"rgba({hue}, {0.08 + 0.5 * strength:.2f})"


def build_report(
    run_dir: str | Path,
    output: str | Path,
    anchor: str = "jpeg",
    groups: Sequence[Sequence[tuple[str, str]]] = (),
    originals: Mapping[str, Path] | Path | None = None,
    published_dir: str | Path | None = None,
    viewer_images: int = 24,
    figures_dir: str | Path | None = None,
    via: str | Sequence[str] | None = None,
) -> Path:
    """Write the HTML report of ``run_dir`` to ``output`` (``output/report.html`` when ``output``
    is an existing folder) and return the path written. ``groups``: the comparisons, each one
    pair ``[(A, B)]`` or several pairs compared together (:mod:`bench.report.grouped`).
    ``figures_dir``: also write each plot as SVG and PDF there (matplotlib, for papers). ``via``:
    the codec (or codecs) whose curves single-point codecs are also read against (see :func:`compare`)."""
    run = load_run(run_dir)
    notes = []
    if anchor not in run.codecs:
        notes.append(f"Anchor codec {anchor!r} is not in this run; BD numbers use {run.codecs[0]!r} instead (--anchor).")
        anchor = run.codecs[0]
    if not isinstance(originals, Mapping):
        originals = find_originals(run, originals)
    sources = load_published(published_dir)
    published = _published(run, sources)
    plot_data_by_quantity = {q.column: plot_data(run, q, sources) if run.available(q) else None for q in run.quantities}
    plots = [
        {"quantity": q, "id": f"plot-{index}", "figure": interactive_figure(plot_data_by_quantity[q.column])
         if plot_data_by_quantity[q.column] is not None else None}
        for index, q in enumerate(run.quantities)
    ]
    if figures_dir is not None:
        save_figures([data for data in plot_data_by_quantity.values() if data is not None], Path(figures_dir))
    comparisons = [_comparison(run, group, via) for group in groups]
    viewer = build_viewer(run, originals, viewer_images)
    checks = checks_section(run, originals)
    first = next((q for q in shown_quantities(run) if not q.distribution), None)
    complexity = {
        "rows": run.complexity.to_dict("records") if run.complexity is not None else [],
        "plot": decode_time_figure(run, first) if first is not None else None,
    }
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("bench.report", "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    html = environment.get_template("report.html.j2").render(
        title=f"codec-bench report: {', '.join(run.datasets)}",
        header=_header(run), notes=notes, anchor=anchor, plots=plots, overview=_overview(run, anchor),
        published=published, comparisons=comparisons, viewer=viewer, crop_size=CROP_SIZE, crop_quality=CROP_QUALITY,
        table=_per_image_table(run), checks=checks, complexity=complexity, plotly_js=PLOTLY_JS.read_text(encoding="utf-8"),
    )
    return _write(html, Path(output))


def _write(html: str, output: Path) -> Path:
    if output.is_dir():
        output = output / "report.html"
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise BenchError(
            f"{output}: cannot write the report ({exc.filename}: {exc.strerror}); "
            "pass -o a writable path such as reports/kodak.html"
        ) from None
    return output
