"""Reference decoding: each row's bitstream decoded a second time, by an independent decoder.

A codec wrapper can break its decoder (a value that overflows 8 bits wrapping instead of
saturating, say) and the suite would then measure a broken decoder as a bad codec. So a codec
names a :class:`~bench.codecs.reference.ReferenceDecoder` (:attr:`bench.codecs.base.Codec.reference_decoder`), and
``bench run --verify`` decodes every row's bitstream with it and compares the image with the
codec's own decode. Each row records:

``reference_decoder``
    which decoder checked it, with its version (``djpeg 2.1.5``);
``reference_max_diff``
    the largest absolute difference between the two decoded images, in grey levels;
``reference_check``
    ``ok``, ``mismatch: ...`` (the difference exceeds the decoder's documented tolerance,
    or a learned codec's latent is not recovered bit for bit), or ``not checked: ...`` with
    the reason (the tool is not installed: which package gives it).

The decoders themselves live with the codecs (:mod:`bench.codecs.reference`); this module
records their outcome in the rows and sums it up per codec.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bench.codecs.reference import MISMATCH, NOT_CHECKED, Verification
from bench.errors import one_line

if TYPE_CHECKING:
    import pandas as pd

    from bench.codecs.base import Codec


def verification_columns(verification: Verification) -> dict[str, Any]:
    """The row columns of one check."""
    return {
        "reference_decoder": verification.decoder,
        "reference_max_diff": float("nan") if verification.max_diff is None else verification.max_diff,
        "reference_check": verification.outcome,
    }


def verify_row(codec: "Codec", bitstream: bytes, reconstruction: np.ndarray) -> dict[str, Any]:
    """The reference check of one row as row columns (never raises: a failure is recorded)."""
    return verification_columns(verify(codec, bitstream, reconstruction))


def verify(codec: "Codec", bitstream: bytes, reconstruction: np.ndarray) -> Verification:
    decoder = codec.reference_decoder
    if decoder is None:
        return Verification("", None, f"{NOT_CHECKED}: {codec.name} names no independent decoder")
    reason = decoder.unavailable()
    if reason:
        return Verification(decoder.describe(), None, f"{NOT_CHECKED}: {reason}")
    try:
        return decoder.verify(codec, bitstream, reconstruction)
    except Exception as exc:  # noqa: BLE001 - a failing check is a finding, not a crash
        return Verification(decoder.describe(), None, f"{MISMATCH}: reference decoding failed ({one_line(exc)})")


# --- the table per codec ------------------------------------------------------------------------


def conformance_table(frame: "pd.DataFrame") -> "pd.DataFrame":
    """Per codec: rows checked, mismatches, worst difference, decoder(s), and why rows were not checked.

    Empty when no row of ``frame`` was verified (no ``reference_check`` column).
    """
    import pandas as pd

    columns = ["codec", "rows", "checked", "mismatches", "worst_diff", "decoder", "not_checked"]
    if "reference_check" not in frame:
        return pd.DataFrame(columns=columns)
    ok_rows = frame[(frame["status"] == "ok") & frame["reference_check"].notna()]
    records = []
    for codec, group in ok_rows.groupby("codec", sort=True):
        outcome = group["reference_check"].astype(str)
        checked = group[~outcome.str.startswith(NOT_CHECKED)]
        reasons = sorted(set(outcome[outcome.str.startswith(NOT_CHECKED)].str.removeprefix(f"{NOT_CHECKED}: ")))
        diffs = pd.to_numeric(checked["reference_max_diff"], errors="coerce").dropna()
        records.append({
            "codec": codec,
            "rows": len(group),
            "checked": len(checked),
            "mismatches": int(outcome.str.startswith(MISMATCH).sum()),
            "worst_diff": int(diffs.max()) if not diffs.empty else None,
            "decoder": ", ".join(sorted(set(group["reference_decoder"].dropna().astype(str)) - {""})),
            "not_checked": "; ".join(reasons),
        })
    table = pd.DataFrame.from_records(records, columns=columns)
    table["worst_diff"] = table["worst_diff"].astype("Int64")
    return table
