"""The per-image table: every row of the run, sortable."""
from __future__ import annotations

from typing import Any

from bench.report.sections.base import DETAILS, ReportInputs, Section, format_number

#: Columns before the metrics' own, in order, when the run has them.
LEADING_COLUMNS = ("image", "codec", "point", "setting", "bpp")
#: Rows shown at most (the first, by image, codec and bpp): past this a report would grow by about
#: 1 kB per row; every row is in the run folder's results.csv.
PER_IMAGE_ROWS = 5000
#: Columns of the results table left out (they describe the run, not the row).
HIDDEN_COLUMNS = (
    "dataset", "width", "height", "codec_version", "status", "error", "recon_path", "bitstream_path", "reference_decoder",
)


def data(inputs: ReportInputs) -> dict[str, Any]:
    """The leading columns, each per-image metric's, then every other column rows carry
    (codec facts such as ``bpp_estimate``, rate control's ``n_encodes``, timing)."""
    results = inputs.run.results
    shown = [*LEADING_COLUMNS, *(quantity.column for quantity in inputs.run.per_image_quantities)]
    rest = [column for column in results if column not in shown and column not in HIDDEN_COLUMNS]
    columns = [column for column in [*shown, *rest] if column in results and results[column].notna().any()]
    numeric = {column for column in columns if results[column].dtype.kind in "fiu"}
    # Sorted by three columns, then only the rows shown are copied (not the whole table).
    first = results[["image", "codec", "bpp"]].sort_values(["image", "codec", "bpp"]).index[:PER_IMAGE_ROWS]
    shown_rows = results.loc[first, columns]
    rows = [[(format_number(record[c]), c in numeric) for c in columns] for record in shown_rows.to_dict("records")]
    return {"table": {"columns": columns, "rows": rows, "total": len(results)}}


SECTION = Section("per-image", "Per-image table", "per_image.html.j2", data, DETAILS)
