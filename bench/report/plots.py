"""Rate-distortion plots: interactive in the report (plotly.js), static for papers (matplotlib).

One plot per quantity: bpp on x, one curve per codec through the mean over images at each
operating point, an optional band of ±1 standard deviation over images (for KID, ±1 std over
subsets), and published reference points. Both kinds are drawn from the same :class:`PlotData`
and the same styles (``styles.py``). In the interactive plot, hovering shows codec, operating
point, bpp and value; clicking a legend entry hides a curve; dragging zooms; the camera button
saves the plot as SVG. Every name reaches plotly as escaped text (plotly renders a few HTML tags
in labels), so a codec or method name cannot become markup.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.report.curves import mean_curve
from bench.report.published import PublishedSource, points_for
from bench.report.rundata import Quantity, RunData
from bench.report.styles import Style, codec_styles, matplotlib_dash, MATPLOTLIB_MARKERS, published_styles

#: Use a log bpp axis when the plotted rates span more than this factor.
LOG_X_SPAN = 4.0


@dataclass
class Series:
    name: str
    style: Style
    bpp: list[float]
    value: list[float]
    points: list[str]
    #: ±1 std around ``value`` (empty when there is none).
    spread: list[float] = field(default_factory=list)


@dataclass
class PlotData:
    quantity: Quantity
    measured: list[Series]
    published: list[Series]
    log_x: bool


def _text(text: str) -> str:
    """Text for plotly, escaped: plotly reads a few HTML tags and ``&lt; &gt; &amp;``, but shows ``&quot;`` as is."""
    return html.escape(text, quote=False)


def axis_label(quantity: Quantity) -> str:
    """The label with its unit once ("MS-SSIM (dB)" already names its unit) and its direction."""
    unit = f" [{quantity.unit}]" if quantity.unit and f"({quantity.unit})" not in quantity.label else ""
    return f"{quantity.label}{unit}, {'higher' if quantity.higher_is_better else 'lower'} is better"


def _marker(style: Style) -> dict[str, Any]:
    """A measured codec's marker: filled, or hollow for its other bitstreams."""
    return {"symbol": "circle" if style.filled else "circle-open", "size": 6, "color": style.color}


def _layout(title: str, x_axis: dict[str, Any], y_title: str, height: int, **legend: Any) -> dict[str, Any]:
    """The plotly layout both figures share: the legend outside the plotting area, so that it never covers a curve."""
    return {
        "title": {"text": _text(title), "font": {"size": 14}},
        "xaxis": {**x_axis, "gridcolor": "#e5e5e5"},
        "yaxis": {"title": {"text": _text(y_title)}, "gridcolor": "#e5e5e5"},
        "legend": {"x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top", "font": {"size": 11}, **legend},
        "margin": {"l": 70, "r": 10, "t": 40, "b": 50}, "hovermode": "closest", "plot_bgcolor": "white",
        "height": height,
    }


def plot_data(run: RunData, quantity: Quantity, published: list[PublishedSource]) -> PlotData | None:
    """The curves of ``quantity`` for every codec and published method, or None without data."""
    curves = {codec: mean_curve(run, quantity, codec) for codec in run.codecs}
    curves = {codec: curve for codec, curve in curves.items() if not curve.empty}
    if not curves:
        return None
    styles = codec_styles(run.codecs)
    measured = []
    for codec, curve in curves.items():
        spread = curve["spread"].astype(float)
        measured.append(Series(
            codec, styles[codec], curve["bpp"].tolist(), curve["value"].tolist(), curve["point"].astype(str).tolist(),
            spread.fillna(0.0).tolist() if spread.notna().any() else [],
        ))
    reference = pd.concat([points_for(published, dataset, quantity) for dataset in run.datasets] or [pd.DataFrame()])
    methods = sorted(reference["method"].unique()) if not reference.empty else []
    published_style = published_styles(methods)
    series = []
    for method in methods:
        points = reference[reference["method"] == method].sort_values("bpp")
        series.append(Series(f"{method} (published)", published_style[method], points["bpp"].tolist(),
                             points["value"].tolist(), points["point"].astype(str).tolist() if "point" in points else []))
    rates = [b for s in [*measured, *series] for b in s.bpp if b > 0]
    log_x = bool(rates) and max(rates) / min(rates) > LOG_X_SPAN
    return PlotData(quantity, measured, series, log_x)


def _hover(series: Series, quantity: Quantity) -> str:
    unit = f" {quantity.unit}" if quantity.unit else ""
    return (f"<b>{_text(series.name)}</b><br>point %{{customdata}}<br>%{{x:.4f}} bpp<br>"
            f"{_text(quantity.label)} %{{y:.4g}}{_text(unit)}<extra></extra>")


def interactive_figure(data: PlotData) -> dict[str, Any]:
    """The plot as plotly.js JSON (``data``, ``layout``); band traces start hidden."""
    traces: list[dict[str, Any]] = []
    for series in data.measured:
        name = _text(series.name)
        if series.spread:
            upper = [v + s for v, s in zip(series.value, series.spread)]
            lower = [v - s for v, s in zip(series.value, series.spread)]
            traces.append({
                "type": "scatter", "x": series.bpp + series.bpp[::-1], "y": upper + lower[::-1], "fill": "toself",
                "fillcolor": series.style.color, "opacity": 0.15, "line": {"width": 0}, "hoverinfo": "skip",
                "showlegend": False, "legendgroup": name, "visible": False, "meta": "band",
            })
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": name, "legendgroup": name, "x": series.bpp, "y": series.value,
            "customdata": [_text(point) for point in series.points], "hovertemplate": _hover(series, data.quantity),
            "line": {"color": series.style.color, "dash": series.style.dash, "width": 2},
            "marker": _marker(series.style),
        })
    for series in data.published:
        name = _text(series.name)
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": name, "legendgroup": "published",
            "legendgrouptitle": {"text": "published"}, "x": series.bpp, "y": series.value,
            "customdata": [_text(point) for point in series.points] or None, "hovertemplate": _hover(series, data.quantity),
            "line": {"color": series.style.color, "dash": series.style.dash, "width": 1.5},
            "marker": {"symbol": f"{series.style.symbol}-open", "size": 8, "color": series.style.color},
        })
    title = f"{data.quantity.label}: mean over images" if not data.quantity.distribution else f"{data.quantity.label} per operating point"
    x_axis = {"title": {"text": "bits per pixel"}, "type": "log" if data.log_x else "linear"}
    layout = _layout(title, x_axis, axis_label(data.quantity), 460, groupclick="toggleitem")
    return {"data": traces, "layout": layout}


def decode_time_figure(run: RunData, quantity: Quantity) -> dict[str, Any] | None:
    """Decode time against quality: per codec and operating point, the mean over images of
    ``decode_seconds`` (x, log) and of ``quantity`` (y); plotly.js JSON, or None without times."""
    if "decode_seconds" not in run.results or quantity.column not in run.results:
        return None
    styles = codec_styles(run.codecs)
    traces = []
    for codec in run.codecs:
        rows = run.results[run.results["codec"] == codec]
        means = rows.groupby("point").agg(seconds=("decode_seconds", "mean"), value=(quantity.column, "mean"),
                                          bpp=("bpp", "mean")).dropna().sort_values("bpp")
        if means.empty:
            continue
        name, style = _text(codec), styles[codec]
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": name, "x": means["seconds"].tolist(), "y": means["value"].tolist(),
            "customdata": [[_text(str(point)), bpp] for point, bpp in zip(means.index, means["bpp"])],
            "hovertemplate": f"<b>{name}</b><br>point %{{customdata[0]}} (%{{customdata[1]:.3f}} bpp)<br>"
                             f"decode %{{x:.3g}} s<br>{_text(quantity.label)} %{{y:.4g}}<extra></extra>",
            "line": {"color": style.color, "dash": style.dash, "width": 1.5},
            "marker": _marker(style),
        })
    if not traces:
        return None
    x_axis = {"title": {"text": "decode time per image, s (mean over images)"}, "type": "log"}
    layout = _layout(f"Decode time and {quantity.label}, per operating point", x_axis, axis_label(quantity), 420)
    return {"data": traces, "layout": layout}


def static_figure(data: PlotData) -> Any:
    """The same plot as a matplotlib figure (no pyplot state), the legend beside the axes."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(8.0, 4.4))
    axes = figure.subplots()
    for series in data.measured:
        axes.plot(series.bpp, series.value, color=series.style.color, linestyle=matplotlib_dash(series.style.dash),
                  marker="o", markersize=3.5, markerfacecolor=series.style.color if series.style.filled else "none",
                  label=series.name)
    for series in data.published:
        axes.plot(series.bpp, series.value, color=series.style.color, linestyle=matplotlib_dash(series.style.dash),
                  linewidth=1.0, marker=MATPLOTLIB_MARKERS[series.style.symbol], markersize=5, markerfacecolor="none",
                  label=series.name)
    if data.log_x:
        axes.set_xscale("log")
        axes.xaxis.set_major_formatter(FuncFormatter(_tick_label))
        axes.xaxis.set_minor_formatter(FuncFormatter(_tick_label))
    axes.set_xlabel("bits per pixel")
    axes.set_ylabel(axis_label(data.quantity))
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return figure


def _tick_label(value: float, _position: int) -> str:
    """Plain numbers on a log axis, only at 1, 2 and 5 times a power of ten (no crowding)."""
    if value <= 0:
        return ""
    leading = round(value / 10 ** math.floor(math.log10(value)), 6)
    return f"{value:g}" if leading in (1, 2, 5) else ""


def save_figures(plots: list[PlotData], folder: Path) -> list[Path]:
    """Each plot as ``<metric column>.svg`` and ``.pdf`` in ``folder``; the paths written."""
    import matplotlib

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for data in plots:
        figure = static_figure(data)
        for suffix in ("svg", "pdf"):
            path = folder / f"{data.quantity.column}.{suffix}"
            with matplotlib.rc_context({"svg.hashsalt": "codec-bench", "svg.fonttype": "none"}):
                figure.savefig(path, bbox_inches="tight", metadata={"Date": None} if suffix == "svg" else {"CreationDate": None})
            written.append(path)
    return written
