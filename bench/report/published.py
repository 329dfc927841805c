"""Numbers published by others: ``baselines/published/<source>/data.csv`` plus a ``CARD.md``.

Each ``data.csv`` has the columns ``method, dataset, operating_point, bpp`` and any of the
metric columns the report plots (``psnr, ms_ssim, lpips, fid, kid``...), one row per published
operating point. The card says where the numbers come from and how they were measured.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.report.rundata import ms_ssim_db

REQUIRED_COLUMNS = ("method", "dataset", "bpp")
#: Published column -> report quantity column, where the names differ.
COLUMN_ALIASES = {"kid": "kid_mean"}


@dataclass
class PublishedSource:
    name: str
    points: pd.DataFrame
    card: str


def default_published_dir() -> Path:
    """``baselines/published`` of the source checkout the package runs from."""
    return Path(__file__).resolve().parents[2] / "baselines" / "published"


def load_published(folder: str | Path | None = None) -> list[PublishedSource]:
    """Every ``<folder>/*/data.csv`` with its card; an absent folder gives an empty list."""
    folder = Path(folder) if folder is not None else default_published_dir()
    sources = []
    for data in sorted(folder.glob("*/data.csv")):
        points = pd.read_csv(data)
        missing = [column for column in REQUIRED_COLUMNS if column not in points]
        if missing:
            raise ValueError(f"{data}: lacks column(s) {', '.join(missing)}; see baselines/published/hific/CARD.md")
        points = points.rename(columns=COLUMN_ALIASES)
        points["dataset"] = points["dataset"].astype(str)
        if "ms_ssim" in points:
            points["ms_ssim_db"] = ms_ssim_db(points["ms_ssim"])
        card_path = data.parent / "CARD.md"
        card = card_path.read_text() if card_path.is_file() else ""
        sources.append(PublishedSource(data.parent.name, points, card))
    return sources


def points_for(sources: list[PublishedSource], dataset: str, column: str) -> pd.DataFrame:
    """Published (method, operating_point, bpp, value) on ``dataset`` (case-insensitive) for one column."""
    frames = []
    for source in sources:
        points = source.points
        if column not in points:
            continue
        rows = points[(points["dataset"].str.lower() == dataset.lower()) & points[column].notna()]
        label = rows["operating_point"].astype(str) if "operating_point" in rows else ""
        frames.append(pd.DataFrame({"method": rows["method"], "operating_point": label, "bpp": rows["bpp"], "value": rows[column]}))
    if not frames:
        return pd.DataFrame(columns=["method", "operating_point", "bpp", "value"])
    return pd.concat(frames, ignore_index=True)
