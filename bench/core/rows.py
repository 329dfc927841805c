"""The result row: its key, its columns, what travels beside it, and the one legacy upgrade.

A row is a plain dict of exported columns (what ``results.csv`` holds), one per image x codec x
operating point. Everything else a measurement produces travels beside it in a
:class:`Measured` record: the features of set metrics (FID/KID), the signatures of the metric
settings it was measured under, and files for the run folder (a reconstruction, a bitstream).
The store keeps the first two, the run folder's owner writes the files; none of them is a column.

Run folders written before operating points had their own column call the setting used
``quality`` and the point's label ``setting``: :func:`upgrade_row` and :func:`upgrade_table`
read them in today's columns, and nothing else needs to know.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Columns every results table starts with; metric columns follow, then :data:`TRAILING_COLUMNS`.
BASE_COLUMNS = ("dataset", "image", "width", "height", "codec", "codec_version", "point", "setting", "bytes", "bpp")
TRAILING_COLUMNS = ("encode_seconds", "decode_seconds", "status", "error")
#: Integer columns, empty (not 0) in error rows.
INTEGER_COLUMNS = ("width", "height", "bytes")
#: Columns a results table must have (after the legacy upgrade) to be read.
REQUIRED_COLUMNS = ("dataset", "image", "codec", "point", "bpp", "status")

Key = tuple[str, str, str, str]


def key_of(row: dict[str, Any]) -> Key:
    return (row["dataset"], row["image"], row["codec"], row["point"])


@dataclass
class Measured:
    """One measured row and what travels beside it."""

    row: dict[str, Any]
    #: Set-metric features of the reconstruction, by feature key (stored, never exported).
    features: dict[str, "np.ndarray"] = field(default_factory=dict)
    #: Metric name -> the signature of the settings it was measured under (stored, never exported).
    signatures: dict[str, str] = field(default_factory=dict)
    #: Relative path in the run folder -> bytes (reconstruction PNG, bitstream), written by the main side.
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        return key_of(self.row)


def upgrade_row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row in today's columns (before operating points: ``setting`` held the point's
    label and ``quality`` the setting used)."""
    if "quality" not in row:
        return row
    row = dict(row)
    row["point"] = row.pop("setting")
    row["setting"] = row.pop("quality")
    return row


def upgrade_table(table: "pd.DataFrame", legacy_recon_path: Any = None) -> "pd.DataFrame":
    """A results table written before operating points, in today's columns.

    ``quality`` held the setting used (for rate-controlled rows the one rate control chose) and
    the point is derived from it. ``legacy_recon_path(dataset, codec, setting label, image)`` gives the rows their
    ``recon_path`` where the old layout put reconstructions.
    """
    from bench.core.points import setting_label, target_label

    if "point" in table or "quality" not in table:
        return table
    table = table.rename(columns={"quality": "setting"})
    points = table["setting"].map(setting_label)
    if "target_bpp" in table:
        targeted = table["target_bpp"].notna()
        points = points.where(~targeted, table["target_bpp"].map(lambda value: target_label(value) if value == value else ""))
    table.insert(list(table.columns).index("setting"), "point", points)
    if legacy_recon_path is not None:
        table["recon_path"] = [
            legacy_recon_path(str(dataset), str(codec), setting_label(setting), str(image))
            for dataset, codec, setting, image in zip(table["dataset"], table["codec"], table["setting"], table["image"])
        ]
    return table
