"""Rate-distortion curves from a run: mean over images per operating point, or one per image."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd
from scipy.interpolate import PchipInterpolator

from bench.report.rundata import Quantity, RunData


def rd_points(bpp: ArrayLike, value: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (bpp, value) points of one curve, sorted by bpp.

    Non-finite values and non-positive rates are dropped, and so are exact repeats of a point:
    rate control gives them when several targets clamp at the same end of a codec's knob (the
    same setting, so the same bitstream), and a repeated point adds nothing to a curve.
    """
    bpp, value = np.asarray(bpp, dtype=float), np.asarray(value, dtype=float)
    keep = np.isfinite(bpp) & np.isfinite(value) & (bpp > 0)
    points = np.unique(np.stack([bpp[keep], value[keep]], axis=1), axis=0)  # sorted by bpp, then value
    return points[:, 0], points[:, 1]


def mean_curve(run: RunData, quantity: Quantity, codec: str) -> pd.DataFrame:
    """One codec's RD curve for ``quantity``, sorted by bpp.

    Columns: ``point``, ``bpp`` (mean over images), ``value`` (mean over images), ``spread``
    (standard deviation over images; for dataset-level metrics the table's own std column, or
    NaN) and ``n`` (images averaged). Points whose value is missing everywhere are dropped, and
    so are exact repeats of an earlier point's (bpp, value), as in :func:`rd_points`.
    """
    if quantity.distribution:
        table = run.distribution
        if table is None or quantity.column not in table:
            return pd.DataFrame(columns=["point", "bpp", "value", "spread", "n"])
        rows = table[table["codec"] == codec]
        curve = pd.DataFrame(
            {
                "point": rows["point"].astype(str),
                "bpp": rows["bpp"].astype(float),
                "value": rows[quantity.column].astype(float),
                "spread": rows[quantity.std_column].astype(float) if quantity.std_column in rows else np.nan,
                "n": rows["n_patches"] if "n_patches" in rows else np.nan,
            }
        )
    else:
        if quantity.column not in run.results:
            return pd.DataFrame(columns=["point", "bpp", "value", "spread", "n"])
        rows = run.results[run.results["codec"] == codec]
        values = rows[quantity.column].astype(float).replace([np.inf, -np.inf], np.nan)
        grouped = pd.DataFrame({"point": rows["point"], "bpp": rows["bpp"].astype(float), "value": values})
        curve = grouped.groupby("point", sort=False).agg(
            bpp=("bpp", "mean"), value=("value", "mean"), spread=("value", "std"), n=("value", "count")
        )
        curve = curve.reset_index()
    curve = curve.dropna(subset=["bpp", "value"]).drop_duplicates(subset=["bpp", "value"])
    return curve.sort_values("bpp", kind="stable").reset_index(drop=True)


def per_image_curves(run: RunData, column: str, codec: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each image's distinct (bpp, value) points for one codec, as :func:`rd_points` gives them."""
    rows = run.results[run.results["codec"] == codec]
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if column not in rows:
        return curves
    for image, points in rows.groupby("image", sort=True):
        curves[str(image)] = rd_points(points["bpp"], points[column])
    return curves


def interpolate_at(bpp: np.ndarray, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """PCHIP interpolation of one curve over log bpp at ``points``; NaN outside its bpp range."""
    points = np.asarray(points, dtype=float)
    out = np.full(points.shape, np.nan)
    if len(bpp) < 2 or np.any(np.diff(bpp) <= 0):
        return out
    inside = (points >= bpp[0]) & (points <= bpp[-1])
    out[inside] = PchipInterpolator(np.log(bpp), values)(np.log(points[inside]))
    return out
