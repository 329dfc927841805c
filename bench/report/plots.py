"""Rate-distortion plots as SVG data URIs (matplotlib figures, no pyplot state).

One plot per quantity: bpp on x, one line per codec through the mean over images at each
operating point, a band of ±1 standard deviation over images (for KID, ±1 std over subsets),
and published reference points as labelled markers. The SVG is embedded as an ``<img>`` data
URI, so nothing in it (codec names in the legend included) can run as script in the report.
"""
from __future__ import annotations

import base64
import io
import math

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bench.report.curves import mean_curve
from bench.report.published import PublishedSource, points_for
from bench.report.rundata import Quantity, RunData

#: Use a log bpp axis when the plotted rates span more than this factor.
LOG_X_SPAN = 4.0
MARKERS = ("*", "D", "P", "X", "^", "v", "s", "o", "<", ">", "h")
#: Published methods with more points than this are drawn as curves, without point labels.
MAX_LABELLED_POINTS = 4


def _svg_data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "codec-bench", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _tick_label(value: float, _position: int) -> str:
    """Plain numbers on a log axis, only at 1, 2 and 5 times a power of ten (no crowding)."""
    if value <= 0:
        return ""
    leading = round(value / 10 ** math.floor(math.log10(value)), 6)
    return f"{value:g}" if leading in (1, 2, 5) else ""


def rd_plot(run: RunData, quantity: Quantity, published: list[PublishedSource]) -> str | None:
    """An SVG data URI of ``quantity`` against bpp for every codec, or None without data."""
    curves = {codec: mean_curve(run, quantity, codec) for codec in run.codecs}
    curves = {codec: curve for codec, curve in curves.items() if not curve.empty}
    if not curves:
        return None
    figure = Figure(figsize=(6.4, 4.2))
    axes = figure.subplots()
    for codec, curve in curves.items():
        (line,) = axes.plot(curve["bpp"], curve["value"], marker="o", markersize=3.5, label=codec)
        spread = curve["spread"].fillna(0.0)
        axes.fill_between(curve["bpp"], curve["value"] - spread, curve["value"] + spread, color=line.get_color(), alpha=0.15, linewidth=0)
    reference = pd.concat([points_for(published, dataset, quantity) for dataset in run.datasets] or [pd.DataFrame()])
    for index, (method, points) in enumerate(reference.groupby("method", sort=True) if not reference.empty else ()):
        points = points.sort_values("bpp")
        curve = len(points) > MAX_LABELLED_POINTS  # a published curve: a dashed line; a few points: labelled markers
        axes.plot(points["bpp"], points["value"], linestyle="--" if curve else "none", linewidth=0.8,
                  marker=MARKERS[index % len(MARKERS)], markersize=4 if curve else 9, color="0.35" if curve else "black",
                  markerfacecolor="none", label=f"{method} (published)")
        for _, point in points.iterrows() if not curve else ():
            axes.annotate(str(point["point"]), (point["bpp"], point["value"]), textcoords="offset points", xytext=(5, 4), fontsize=7)
    all_bpp = pd.concat([curve["bpp"] for curve in curves.values()] + ([reference["bpp"]] if not reference.empty else []))
    if all_bpp.min() > 0 and all_bpp.max() / all_bpp.min() > LOG_X_SPAN:
        axes.set_xscale("log")
        axes.xaxis.set_major_formatter(FuncFormatter(_tick_label))
        axes.xaxis.set_minor_formatter(FuncFormatter(_tick_label))
    unit = f" [{quantity.unit}]" if quantity.unit else ""
    direction = "higher is better" if quantity.higher_is_better else "lower is better"
    axes.set_xlabel("bits per pixel")
    axes.set_ylabel(f"{quantity.label}{unit} ({direction})")
    spread_text = "±1 std over subsets" if quantity.std_column else ("±1 std over images" if not quantity.distribution else "")
    axes.set_title(f"{quantity.label}: mean" + (f", band {spread_text}" if spread_text else ""), fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=6, ncol=2)
    return _svg_data_uri(figure)
