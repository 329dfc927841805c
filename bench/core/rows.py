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
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

@dataclass(frozen=True)
class RowColumn:
    """One column of a results row: its name, type, who fills it, and what it means.

    These are the run core's columns. The parts declare their own: a metric its
    :class:`~bench.metrics.base.Column` s, a codec its :attr:`~bench.codecs.base.Codec.analysis_columns`.
    """

    name: str
    #: ``str``, ``int``, ``float`` or ``bool``; int columns are empty (not 0) in error rows.
    type: str
    #: Where the value comes from (``runner``, ``--verify``, ``checks``, ...).
    filled_by: str
    meaning: str
    #: :data:`BASE` (every table starts with these), :data:`TRAILING` (after the metrics) or optional.
    place: str = "optional"


BASE, TRAILING = "base", "trailing"


#: Every column the run core writes, in the order a results table shows them (metric columns go
#: between :data:`BASE_COLUMNS` and :data:`TRAILING_COLUMNS`, the optional ones after).
ROW_COLUMNS = (
    RowColumn("dataset", "str", "runner", "the dataset (or --images folder) the image belongs to", BASE),
    RowColumn("image", "str", "runner", "the image's file name", BASE),
    RowColumn("width", "int", "runner", "the image's width in pixels", BASE),
    RowColumn("height", "int", "runner", "the image's height in pixels", BASE),
    RowColumn("codec", "str", "runner", "the codec's registered name", BASE),
    RowColumn("codec_version", "str", "runner", "the version of the library behind the codec", BASE),
    RowColumn("point", "str", "runner", "the operating point's label: the setting, or t<bpp> under --target-bpp", BASE),
    RowColumn("setting", "str", "runner", "the codec's own setting used (quality, checkpoint name)", BASE),
    RowColumn("bytes", "int", "runner", "the bitstream's length", BASE),
    RowColumn("bpp", "float", "runner", "8 x bytes / (width x height)", BASE),
    RowColumn("encode_seconds", "float", "runner", "wall time of one encode (under rate control: per encode)", TRAILING),
    RowColumn("decode_seconds", "float", "runner", "wall time of the decode", TRAILING),
    RowColumn("status", "str", "runner", "ok, or error", TRAILING),
    RowColumn("error", "str", "runner", "why the row failed, one line (empty when ok)", TRAILING),
    RowColumn("host", "str", "runner", "the machine that measured the row"),
    RowColumn("warnings", "str", "runner", "library warnings while coding and measuring, joined by '; '"),
    RowColumn("input_note", "str", "runner", "what reading the image reported (e.g. an alpha channel dropped)"),
    RowColumn("target_bpp", "float", "rate control", "the bpp --target-bpp aimed at"),
    RowColumn("n_encodes", "int", "rate control", "encodes the setting search took"),
    RowColumn("max_abs_error", "int", "checks", "largest absolute difference from the original, in grey levels"),
    RowColumn("suspect", "str", "checks", "why the reconstruction looks damaged (docs/checks.md), or empty"),
    RowColumn("bitstream_sha256", "str", "runner", "the first 16 hex digits of the bitstream's SHA-256 (checks: equal bitstreams)"),
    RowColumn("reference_decoder", "str", "--verify", "the independent decoder that decoded the bitstream again, with its version"),
    RowColumn("reference_max_diff", "float", "--verify", "largest difference between the two decodes, in grey levels"),
    RowColumn("reference_check", "str", "--verify", "ok, mismatch: ..., or not checked: ..."),
    RowColumn("recon_path", "str", "--save-recon", "the reconstruction's PNG, relative to the run folder"),
    RowColumn("bitstream_path", "str", "--save-bitstreams", "the bitstream's file, relative to the run folder"),
)
COLUMNS_BY_NAME = {column.name: column for column in ROW_COLUMNS}

#: Columns every results table starts with; metric columns follow, then :data:`TRAILING_COLUMNS`.
BASE_COLUMNS = tuple(column.name for column in ROW_COLUMNS if column.place == BASE)
TRAILING_COLUMNS = tuple(column.name for column in ROW_COLUMNS if column.place == TRAILING)
#: Integer columns, empty (not 0) in error rows.
INTEGER_COLUMNS = tuple(column.name for column in ROW_COLUMNS if column.type == "int" and column.place == BASE)
#: Columns a results table must have (after the legacy upgrade) to be read.
REQUIRED_COLUMNS = ("dataset", "image", "codec", "point", "bpp", "status")


def undeclared(row: dict[str, Any], declared_elsewhere: Iterable[str] = ()) -> list[str]:
    """The keys of ``row`` that neither :data:`ROW_COLUMNS` nor ``declared_elsewhere`` (the parts'
    own columns) declare."""
    known = set(COLUMNS_BY_NAME) | set(declared_elsewhere)
    return [key for key in row if key not in known]


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
