"""Which classical codec of a run has the lowest mean LPIPS at a learned model's mean bpp.

The report compares each HiFiC family against this codec (``--compare CODEC:hific-cpu-dense``).
Each classical codec's mean LPIPS curve (mean over images per setting) is interpolated, PCHIP
over log bpp as in the report's matched-bpp comparisons, at the reference model's mean bpp;
codecs whose range does not reach that bpp are left out and named.

    python reports/lowest_lpips_classical.py runs/kodak --reference hific-cpu-dense --setting lo
"""
from __future__ import annotations

import argparse

import numpy as np

from bench.report.curves import mean_curve
from bench.report.matched import interpolate_at
from bench.report.rundata import RunData, load_run

LEARNED_PREFIX = "hific"


def lpips_at_reference(run: RunData, reference: str, setting: str) -> tuple[float, dict[str, float]]:
    """The reference model's mean bpp at ``setting`` and each classical codec's LPIPS there (NaN: out of range)."""
    lpips = next(quantity for quantity in run.quantities if quantity.column == "lpips")
    rows = run.results[(run.results["codec"] == reference) & (run.results["point"].astype(str) == setting)]
    if rows.empty:
        raise SystemExit(f"no ok rows of {reference} at setting {setting!r} in {run.path}")
    bits_per_pixel = float(rows["bpp"].mean())
    classical = [codec for codec in run.codecs if not codec.startswith(LEARNED_PREFIX)]
    values = {}
    for codec in classical:
        curve = mean_curve(run, lpips, codec)
        values[codec] = float(interpolate_at(curve["bpp"].to_numpy(), curve["value"].to_numpy(), np.array([bits_per_pixel]))[0])
    return bits_per_pixel, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--reference", default="hific-cpu-dense")
    parser.add_argument("--setting", default="lo")
    args = parser.parse_args()
    bits_per_pixel, values = lpips_at_reference(load_run(args.run_dir), args.reference, args.setting)
    print(f"{args.reference} {args.setting}: {bits_per_pixel:.4f} bpp")
    for codec, value in sorted(values.items(), key=lambda item: (np.isnan(item[1]), item[1])):
        print(f"  {codec:12s} LPIPS {value:.4f}" if np.isfinite(value) else f"  {codec:12s} out of its bpp range")
    finite = {codec: value for codec, value in values.items() if np.isfinite(value)}
    print(min(finite, key=finite.get) if finite else "none")


if __name__ == "__main__":
    main()
