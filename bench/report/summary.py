"""The run summary's rules: per codec, rows, errors, the bpp range, and the first metrics at two
common rates (``bench run`` prints it; :func:`bench.commands.run.summarize` formats it).

Codecs are compared at the same bpp, on their mean curves (mean over images at each operating
point, PCHIP over log bpp as ``bench compare`` reads curves), at the two rates of
:data:`SUMMARY_BPP_LADDER` the most codecs reach; a codec whose curve does not reach a rate has
NaN there. The bpp range is that of the median over images at each operating point, from the
lowest point to the highest: a tiny image (whose header alone is many bits per pixel) cannot
stretch it. A codec with one operating point has no curve to read: its point's mean bpp and
metrics are given instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from bench.metrics.base import Column

#: Rates the summary reads every codec's mean curve at: the two of these that most codecs reach.
SUMMARY_BPP_LADDER = (0.1, 0.25, 0.5, 1.0, 2.0)
#: Metrics the summary shows (the first this many of the run's plotted per-image metrics); the report has all.
SUMMARY_METRICS = 3


@dataclass(frozen=True)
class CodecSummary:
    codec: str
    rows: int
    errors: int
    #: (lowest, highest) median bpp over the codec's operating points; None without an ok row.
    bpp_range: tuple[float, float] | None
    #: Each metric at each rate, metric by metric (NaN where the curve does not reach the rate).
    at_rates: list[float]


@dataclass(frozen=True)
class SinglePoint:
    """A codec with one operating point: that point's mean bpp and metrics."""

    codec: str
    point: str
    bpp: float
    values: dict[str, float]


@dataclass(frozen=True)
class RunSummary:
    metrics: list[str]
    rates: list[float]
    codecs: list[CodecSummary]
    single_points: list[SinglePoint]


def run_summary(frame: "pd.DataFrame", metric_columns: Sequence["Column"]) -> RunSummary:
    """The summary of a results table (see the module docstring)."""
    import pandas as pd

    from bench.report.curves import interpolate_at

    ok = frame[frame["status"] == "ok"]
    metrics = [c.name for c in metric_columns if c.per == "image" and c.plotted and c.name in ok.columns][:SUMMARY_METRICS]
    curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for codec, group in ok.groupby("codec", sort=True):
        for name in metrics:
            values = pd.to_numeric(group[name], errors="coerce").replace([np.inf, -np.inf], np.nan)
            mean = pd.DataFrame({"bpp": group["bpp"].astype(float), "value": values, "point": group["point"]})
            mean = mean.groupby("point").mean().dropna().sort_values("bpp")
            curves.setdefault(str(codec), {})[name] = (mean["bpp"].to_numpy(), mean["value"].to_numpy())
    reach = {rate: sum(1 for c in curves.values() for b, _ in list(c.values())[:1] if len(b) and b[0] <= rate <= b[-1])
             for rate in SUMMARY_BPP_LADDER}
    rates = sorted(sorted(SUMMARY_BPP_LADDER, key=lambda rate: -reach[rate])[:2]) if metrics else []
    codecs = []
    for codec, group in frame.groupby("codec", sort=True):
        medians = ok[ok["codec"] == codec].groupby("point")["bpp"].median()
        at_rates = []
        for name in metrics:
            bpp, value = curves.get(str(codec), {}).get(name, (np.array([]), np.array([])))
            at_rates += [float(interpolate_at(bpp, value, np.array([rate]))[0]) if len(bpp) else float("nan") for rate in rates]
        codecs.append(CodecSummary(str(codec), len(group), int((group["status"] != "ok").sum()),
                                   (float(medians.min()), float(medians.max())) if not medians.empty else None, at_rates))
    single = [
        SinglePoint(str(codec), str(group["point"].iloc[0]), float(group["bpp"].astype(float).mean()),
                    {name: float(pd.to_numeric(group[name], errors="coerce").mean()) for name in metrics})
        for codec, group in ok.groupby("codec", sort=True) if group["point"].nunique() == 1
    ]
    return RunSummary(metrics, rates, codecs, single)
