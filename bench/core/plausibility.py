"""Rows a careful researcher would look at twice: damaged reconstructions and curves that make no sense.

A decoder that damages its output is not always caught by a second decoder (there may be
none), so every run also checks what the numbers themselves say. Two kinds of check:

Per row, on the images (:func:`image_checks`, in the worker, columns ``max_abs_error`` and
``suspect``):

* **many samples off by more than half the range at a high rate**: more than
  :data:`WRAPPED_SHARE` of the samples differ from the original by more than :data:`HALF_RANGE`
  grey levels although the row spends at least :data:`HIGH_RATE_BPP` bits per pixel (a working
  codec leaves at most a few such samples on sharp edges at such a rate; a decoder that wraps or
  drops a range of values does it to every sample in that range);
* **constant**: the decoded image has one value while the original does not;
* **nearly flat**: the decoded image's standard deviation is under :data:`FLAT_RATIO` of the
  original's (which is at least :data:`MIN_DETAIL` grey levels): a decoder that outputs a haze
  whatever it is given (on Kodak, the lowest settings of every codec here keep at least 0.88 of
  the original's standard deviation);
* **shifted**: the decoded image matches the original better when moved by a few pixels than
  where it is (the error at the best offset is under :data:`SHIFT_RATIO` of the error in place).

Across rows, on the results table (:func:`flag_rows`, with PSNR, and ``bitstream_sha256``):

* **the same bitstream for different images**: a codec wrote byte-identical bitstreams for two or
  more images at one operating point (a model that ignores its input; identical input images
  would do it too, which real datasets do not hold);
* **falls while bpp rises**: on one image's curve, PSNR drops more than :data:`DROP_DB` below the
  best PSNR the codec reached on that image at a lower bpp;
* **far below the codec's own curve**: PSNR is more than :data:`BELOW_DB` under the median PSNR of
  the codec's other images at the same bpp (each interpolated in log bpp; at least
  :data:`MIN_OTHER_IMAGES` of them must reach that bpp; past :data:`REFERENCE_IMAGES` images,
  the median of that many of them, spread evenly in name order).

The thresholds were set on the committed Kodak run (``reports/kodak``): none of the correct
codecs there raises a flag (their largest drop is 1.3 dB, HiFiC's generative decoder; the
largest distance below the median is 9.9 dB, kodim13, the hardest image), while the HTJ2K rows
as first committed (a decoder that wrapped saturated pixels) raise several.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

HALF_RANGE = 128
#: Share of samples: correct codecs on Kodak at 1 bpp and above leave at most 2 of 1 179 648 (0.0002 %).
WRAPPED_SHARE = 1e-4
HIGH_RATE_BPP = 1.0
SHIFT_RATIO = 0.5
FLAT_RATIO = 0.25
MIN_DETAIL = 2.0
#: Largest offset tried, in pixels, in each direction.
MAX_SHIFT = 4
#: Side of the central crop the shift check compares (it need not see the whole image).
SHIFT_CROP = 256
DROP_DB = 2.0
BELOW_DB = 12.0
MIN_OTHER_IMAGES = 5
#: Images whose curves the far-below check reads each row against: all of a codec's images up to
#: this many, else this many spread evenly over them in name order (the median of so many is
#: close to that of all of them, and the check's cost stays linear in the rows).
REFERENCE_IMAGES = 256
#: Rows whose bpp the far-below check reads the reference curves at, at a time (bounded memory).
ROWS_PER_BLOCK = 4096
#: Columns of :func:`flag_rows`' table.
FLAG_COLUMNS = ("codec", "image", "point", "bpp", "psnr", "reason", "recon_path", "dataset")


def image_checks(reference: np.ndarray, reconstruction: np.ndarray, bits_per_pixel: float,
                 reference_detail: float | None = None) -> dict[str, Any]:
    """``max_abs_error`` (grey levels) and ``suspect`` (why the reconstruction looks damaged, or "").

    ``reference_detail``: ``reference.std()`` where the caller keeps it for all rows of the image.
    """
    # |a - b| in uint8 without widening: one byte per sample, the cost of a check on every row.
    error = np.maximum(reference, reconstruction) - np.minimum(reference, reconstruction)
    max_abs_error = int(error.max())
    far_share = float(np.count_nonzero(error > HALF_RANGE)) / error.size
    reasons = []
    if far_share > WRAPPED_SHARE and bits_per_pixel >= HIGH_RATE_BPP:
        reasons.append(f"{far_share:.2%} of samples off by more than {HALF_RANGE} grey levels (up to {max_abs_error}) "
                       f"at {bits_per_pixel:.2f} bpp")
    if np.ptp(reconstruction) == 0 and np.ptp(reference) > 0:
        reasons.append(f"the decoded image is constant ({int(reconstruction.flat[0])})")
    elif ((detail := float(reference.std()) if reference_detail is None else reference_detail) >= MIN_DETAIL
          # std is a norm of the centred samples, so std(reference) <= std(reconstruction) + rms(error) and a
          # nearly flat reconstruction has max_abs_error >= rms(error) > (1 - FLAT_RATIO) * detail: the exact
          # test (a pass over the image) is needed only past that bound.
          and max_abs_error > (1 - FLAT_RATIO) * detail and float(reconstruction.std()) < FLAT_RATIO * detail):
        reasons.append(f"the decoded image is nearly flat (standard deviation {float(reconstruction.std()):.1f} "
                       f"against the original's {detail:.1f})")
    elif max_abs_error > 0:
        shift = best_shift(reference, reconstruction)
        if shift is not None:
            reasons.append(f"the decoded image is shifted by {shift[1]} px across and {shift[0]} px down")
    return {"max_abs_error": max_abs_error, "suspect": "; ".join(reasons)}


def best_shift(reference: np.ndarray, reconstruction: np.ndarray) -> tuple[int, int] | None:
    """``(down, across)``: the offset of ``reconstruction`` against ``reference`` when moving it by
    up to :data:`MAX_SHIFT` pixels makes the error clearly smaller (under :data:`SHIFT_RATIO` of
    the error in place); None when it stays best in place."""
    height, width = reference.shape[:2]
    if min(height, width) <= 4 * MAX_SHIFT:
        return None
    top, left = max(0, (height - SHIFT_CROP) // 2), max(0, (width - SHIFT_CROP) // 2)
    bottom, right = min(height, top + SHIFT_CROP), min(width, left + SHIFT_CROP)
    # A band of MAX_SHIFT pixels around the crop stays inside the image, so every offset compares as many pixels.
    top, left = max(top, MAX_SHIFT), max(left, MAX_SHIFT)
    bottom, right = min(bottom, height - MAX_SHIFT), min(width - MAX_SHIFT, right)
    window = (slice(top - MAX_SHIFT, bottom + MAX_SHIFT), slice(left - MAX_SHIFT, right + MAX_SHIFT))
    # One channel (green, or the only one) shows a shift as well as three, at a third of the cost.
    channel = (..., min(1, reference.shape[2] - 1)) if reference.ndim == 3 else (...,)
    target = reference[window][channel].astype(np.float32)[MAX_SHIFT:-MAX_SHIFT, MAX_SHIFT:-MAX_SHIFT]
    moved_window = reconstruction[window][channel].astype(np.float32)
    rows, columns = target.shape

    def error_at(offset: tuple[int, int]) -> float:
        down, across = MAX_SHIFT + offset[0], MAX_SHIFT + offset[1]
        return float(np.mean((moved_window[down : down + rows, across : across + columns] - target) ** 2))

    in_place = error_at((0, 0))
    # Natural images are smooth, so a shifted decode is already closer one pixel towards its offset:
    # when no neighbour of the place beats it, the full search (most of the cost) is skipped.
    neighbours = [(down, across) for down in (-1, 0, 1) for across in (-1, 0, 1) if (down, across) != (0, 0)]
    if min(error_at(offset) for offset in neighbours) >= in_place:
        return None
    errors = {
        (down, across): error_at((down, across))
        for down in range(-MAX_SHIFT, MAX_SHIFT + 1) for across in range(-MAX_SHIFT, MAX_SHIFT + 1) if (down, across) != (0, 0)
    }
    offset = min(errors, key=errors.__getitem__)
    return offset if errors[offset] < SHIFT_RATIO * in_place else None


def flag_rows(frame: "pd.DataFrame") -> "pd.DataFrame":
    """Every suspicious ok row of a results table, one row per reason (columns :data:`FLAG_COLUMNS`)."""
    import pandas as pd

    ok = frame[frame["status"] == "ok"]
    flags: list[dict[str, Any]] = []
    if "suspect" in ok:
        for row in ok[ok["suspect"].fillna("").astype(str) != ""].to_dict("records"):
            flags.append(_flag(row, str(row["suspect"])))
    if "bitstream_sha256" in ok:
        flags.extend(_same_bitstream_flags(ok))
    if "psnr" in ok:
        finite = ok[np.isfinite(pd.to_numeric(ok["psnr"], errors="coerce")) & (pd.to_numeric(ok["bpp"], errors="coerce") > 0)]
        for _, group in finite.groupby(["dataset", "codec"], sort=True):
            flags.extend(_curve_flags(group))
    columns = list(FLAG_COLUMNS)
    if not flags:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame.from_records(flags, columns=columns)
    return table.sort_values(["codec", "image", "bpp"], kind="stable").reset_index(drop=True)


def _same_bitstream_flags(ok: "pd.DataFrame") -> list[dict[str, Any]]:
    """A flag for each row whose bitstream another image's row of the same codec and point also has."""
    written = ok[ok["bitstream_sha256"].fillna("").astype(str) != ""]
    flags = []
    for _, group in written.groupby(["dataset", "codec", "point", "bitstream_sha256"], sort=False):
        images = sorted(set(group["image"].astype(str)))
        if len(images) > 1:
            for row in group.to_dict("records"):
                others = [image for image in images if image != row["image"]]
                flags.append(_flag(row, f"the same bitstream as {len(others)} other image(s) ({', '.join(others[:3])}"
                                        f"{', ...' if len(others) > 3 else ''}): the codec ignores its input"))
    return flags


def _flag(row: dict[str, Any], reason: str) -> dict[str, Any]:
    return {
        "codec": row["codec"], "image": row["image"], "point": row["point"], "bpp": float(row["bpp"]),
        "psnr": float(row.get("psnr", float("nan"))), "reason": reason, "recon_path": row.get("recon_path"),
        "dataset": row["dataset"],
    }


def _curve_flags(group: "pd.DataFrame") -> list[dict[str, Any]]:
    """The falls-while-bpp-rises and far-below-the-curve flags of one codec on one dataset.

    Arrays throughout (no object per row), the other images' curves read for
    :data:`ROWS_PER_BLOCK` rows at a time against at most :data:`REFERENCE_IMAGES` images, so
    that time grows linearly with the rows and memory stays bounded.
    """
    import pandas as pd

    rows = group.sort_values(["image", "bpp"])
    images = pd.factorize(rows["image"])[0]  # sorted, so each image's rows are one run of codes
    here = np.log(rows["bpp"].to_numpy(dtype=float))
    psnr = rows["psnr"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, images[1:] != images[:-1]])
    ends = np.r_[starts[1:], len(images)]
    # Falls: the best PSNR of the image's rows before this one (those at a lower bpp).
    best_below = np.full(len(psnr), -np.inf)
    for start, end in zip(starts, ends):
        best_below[start + 1 : end] = np.maximum.accumulate(psnr[start : end - 1])
    flagged: list[tuple[int, int, str]] = [
        (index, 0, f"PSNR falls {best_below[index] - psnr[index]:.1f} dB below this image's best at a lower bpp")
        for index in np.flatnonzero(best_below - psnr > DROP_DB)
    ]
    # Far below: the median of the other images' curves at this row's bpp.
    references = np.arange(len(starts))
    if len(references) > REFERENCE_IMAGES:
        references = np.unique(np.linspace(0, len(starts) - 1, REFERENCE_IMAGES).round().astype(int))
    for block in range(0, len(psnr), ROWS_PER_BLOCK):
        columns = slice(block, block + ROWS_PER_BLOCK)
        at_bpp = np.full((len(references), len(psnr[columns])), np.nan)
        for line, reference in enumerate(references):
            start, end = starts[reference], ends[reference]
            x = here[columns]
            inside = (x >= here[start:end].min()) & (x <= here[start:end].max()) & (images[columns] != reference)
            at_bpp[line, inside] = np.interp(x[inside], here[start:end], psnr[start:end])
        counts = np.count_nonzero(~np.isnan(at_bpp), axis=0)
        enough = np.flatnonzero(counts >= MIN_OTHER_IMAGES)
        medians = np.nanmedian(at_bpp[:, enough], axis=0) if len(enough) else np.array([])
        for column, median in zip(enough, medians):
            below = float(median) - psnr[block + column]
            if below > BELOW_DB:
                flagged.append((block + column, 1, f"PSNR {below:.1f} dB below the median of the codec's other "
                                                   f"{counts[column]} images at this bpp"))
    flagged.sort(key=lambda flag: flag[:2])
    records = rows.iloc[[index for index, _, _ in flagged]].to_dict("records")
    return [_flag(record, reason) for record, (_, _, reason) in zip(records, flagged)]


def flag_counts(flags: "pd.DataFrame") -> dict[str, int]:
    """Flagged rows per codec (a row with two reasons counts once)."""
    if flags.empty:
        return {}
    return {str(codec): int(count) for codec, count in flags.drop_duplicates(["codec", "image", "point"]).groupby("codec").size().items()}
