"""Tables of a run as the terminal shows them (the command layer's formatting of the core's tables)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from bench.core.distribution import MIN_PATCHES_FOR_FID

if TYPE_CHECKING:
    import pandas as pd


def format_distribution(table: "pd.DataFrame") -> str:
    """The table as the CLI prints it, or one line saying why it has no group."""
    if table.empty:
        return "bench: no FID/KID group: no row of this run's images has status ok"
    return table.drop(columns="fid_note").to_string(index=False, float_format="{:.4g}".format)


def small_sample_warning(table: "pd.DataFrame") -> str | None:
    """One line when any group has fewer than :data:`MIN_PATCHES_FOR_FID` patches, else None."""
    if table.empty or "n_patches" not in table or (table["n_patches"] >= MIN_PATCHES_FOR_FID).all():
        return None
    fewest = int(table["n_patches"].min())
    return (
        f"bench: FID here uses as few as {fewest} patches per set (< {MIN_PATCHES_FOR_FID}): its covariance is "
        "rank-deficient and the value biased; compare codecs by KID (kid_mean, kid_std) instead"
    )


def format_conformance(table: "pd.DataFrame") -> str:
    """The conformance table as terminal lines (one per codec)."""
    if table.empty:
        return ""
    width = max(len(str(name)) for name in table["codec"])
    lines = []
    for record in table.itertuples(index=False):
        text = f"  {record.codec:<{width}}  checked {record.checked}/{record.rows}"
        if record.checked:
            text += f"  worst diff {record.worst_diff}  mismatches {record.mismatches}  by {record.decoder}"
        if record.not_checked:
            text += f"  not checked: {record.not_checked}"
        lines.append(text)
    return "\n".join(lines)
