"""Numbers published by others: ``baselines/published/<source>/data.csv`` plus a ``CARD.md``.

Each ``data.csv`` has the columns ``method, dataset, point, bpp`` (``point``: the operating
point's label, e.g. HiFiC's ``lo``; files written before it was named ``point`` may call it
``operating_point``) and any of the metric columns the report plots (``psnr, ms_ssim, lpips,
fid, kid``...), one row per published operating point. The card says where the numbers come
from and how they were measured.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench import resources
from bench.report.rundata import Quantity, to_db

REQUIRED_COLUMNS = ("method", "dataset", "bpp")
#: Columns that hold text; every other column holds numbers, or nothing where none was published.
TEXT_COLUMNS = ("method", "dataset", "point")
#: Published column -> report column, where the names differ.
COLUMN_ALIASES = {"kid": "kid_mean", "operating_point": "point"}


_SEE_CARD = "see baselines/published/hific/ for the expected data.csv and CARD.md"


@dataclass
class PublishedSource:
    name: str
    points: pd.DataFrame
    card: str


def default_published_dir() -> Path:
    """The published points that ship with the package (``baselines/published`` of the repository)."""
    return resources.published_dir()


def load_published(folder: str | Path | None = None) -> list[PublishedSource]:
    """Every ``<folder>/*/data.csv`` with its card; an absent folder gives an empty list."""
    folder = Path(folder) if folder is not None else default_published_dir()
    sources = []
    for data in sorted(folder.glob("*/data.csv")):
        points = _read_points(data)
        card_path = data.parent / "CARD.md"
        card = card_path.read_text() if card_path.is_file() else ""
        sources.append(PublishedSource(data.parent.name, points, card))
    return sources


def _read_points(data: Path) -> pd.DataFrame:
    """One ``data.csv``, numeric columns as floats; a one-line ValueError naming the file, line
    and column of anything that does not fit."""
    try:
        # Everything as text first, so that a stray word is reported where it is.
        text = pd.read_csv(data, dtype=str, keep_default_na=False, skip_blank_lines=False).rename(columns=COLUMN_ALIASES)
    except (OSError, ValueError) as exc:  # pandas reports malformed CSV as ValueError
        raise ValueError(f"{data}: not a readable CSV file ({str(exc).strip()}); {_SEE_CARD}") from None
    missing = [column for column in REQUIRED_COLUMNS if column not in text]
    if missing:
        raise ValueError(f"{data}: lacks column(s) {', '.join(missing)}; {_SEE_CARD}")
    text = text.apply(lambda column: column.str.strip())
    points = text.copy()
    for column in text.columns.difference(TEXT_COLUMNS):
        # Python's float() reads every written digit exactly (pandas' fast parser can be off in the last bit).
        points[column] = text[column].map(_number_or_nan).astype(float)
        wrong = points[column].isna() & (text[column] != "")
        if wrong.any():
            row = int(wrong.to_numpy().argmax())
            raise ValueError(
                f"{data}, line {row + 2}, column {column}: {text[column].iloc[row]!r} is not a number; "
                f"write a number such as 0.35, or leave the cell empty where nothing was published"
            )
    return points[(text != "").any(axis=1)].reset_index(drop=True)


def _number_or_nan(text: str) -> float:
    try:
        return float(text) if text else math.nan
    except ValueError:
        return math.nan


def points_for(sources: list[PublishedSource], dataset: str, quantity: Quantity) -> pd.DataFrame:
    """Published (method, point, bpp, value) on ``dataset`` (case-insensitive) for one quantity."""
    column = quantity.db_of or quantity.column
    frames = []
    for source in sources:
        points = source.points
        if column not in points:
            continue
        rows = points[(points["dataset"].str.lower() == dataset.lower()) & points[column].notna()]
        label = rows["point"].astype(str) if "point" in rows else ""
        values = to_db(rows[column]) if quantity.db_of else rows[column]
        frames.append(pd.DataFrame({"method": rows["method"], "point": label, "bpp": rows["bpp"], "value": values}))
    if not frames:
        return pd.DataFrame(columns=["method", "point", "bpp", "value"])
    return pd.concat(frames, ignore_index=True)
