"""Reading a run directory into tables the report sections use.

A run directory holds ``results.parquet`` or ``results.csv`` (one row per image x codec x
setting), optionally ``distribution_metrics.csv`` (FID/KID per codec and setting),
``metadata.json`` and ``recon/`` (reconstructions, see :func:`bench.runner.recon_path`). Only rows whose ``status``
is ``"ok"`` are used; optional columns and files may be missing, and each report section then
says what is missing instead of failing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("dataset", "image", "codec", "quality", "bpp", "status")
DISTRIBUTION_COLUMNS = ("codec", "quality", "mean_bpp")
#: How to get a run's files written again.
RERUN = "run the same `bench run` command again to re-export it"

T = TypeVar("T")


class RunDirError(ValueError):
    """A run directory the report cannot read, with a one-line reason and a fix."""


@dataclass(frozen=True)
class Quantity:
    """One plotted / compared quantity: a column of the results or distribution table."""

    column: str
    label: str
    higher_is_better: bool
    unit: str = ""
    #: True for dataset-level metrics (FID, KID) read from ``distribution_metrics.csv``.
    distribution: bool = False
    #: Column holding a per-point standard deviation in the distribution table, if any.
    std_column: str = ""


QUANTITIES = (
    Quantity("psnr", "PSNR", True, "dB"),
    Quantity("ms_ssim", "MS-SSIM", True),
    Quantity("ms_ssim_db", "MS-SSIM (dB)", True, "dB"),
    Quantity("lpips", "LPIPS", False),
    Quantity("fid", "FID", False, distribution=True),
    Quantity("kid_mean", "KID", False, distribution=True, std_column="kid_std"),
)


@dataclass
class RunData:
    """The parts of a run directory the report reads."""

    path: Path
    #: Rows with status "ok", plus ``point`` (the operating point) and ``ms_ssim_db``.
    results: pd.DataFrame
    #: Number of rows whose status was not "ok", by codec.
    failed: dict[str, int]
    #: ``distribution_metrics.csv`` with a ``bpp`` column, or None when absent.
    distribution: pd.DataFrame | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def recon_dir(self) -> Path | None:
        recon = self.path / "recon"
        return recon if recon.is_dir() else None

    @property
    def codecs(self) -> list[str]:
        return list(dict.fromkeys(self.results["codec"]))

    @property
    def datasets(self) -> list[str]:
        return sorted(set(self.results["dataset"].astype(str)))

    def available(self, quantity: Quantity) -> bool:
        table = self.distribution if quantity.distribution else self.results
        return table is not None and quantity.column in table and table[quantity.column].notna().any()


def ms_ssim_db(ms_ssim: np.ndarray | pd.Series) -> np.ndarray:
    """MS-SSIM on a dB scale, ``-10 log10(1 - MS-SSIM)``; MS-SSIM = 1 maps to +inf."""
    with np.errstate(divide="ignore"):
        return -10.0 * np.log10(1.0 - np.asarray(ms_ssim, dtype=float))


def operating_point(results: pd.DataFrame) -> pd.Series:
    """The label that groups rows into one RD point: the target bpp for rate-controlled rows,
    the codec setting otherwise."""
    point = results["quality"].astype(str)
    if "target_bpp" in results:
        targeted = results["target_bpp"].notna()
        point = point.where(~targeted, "target " + results["target_bpp"].astype(str))
    return point


def _read(path: Path, reader: Callable[[Path], T]) -> T:
    """``reader(path)``; a malformed file becomes a :class:`RunDirError` naming it."""
    try:
        return reader(path)
    except (OSError, ValueError) as exc:  # pandas, pyarrow and json report malformed files as ValueError
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunDirError(f"{path}: cannot be read ({reason}); {RERUN}") from None


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _require(table: pd.DataFrame, columns: tuple[str, ...], path: Path) -> pd.DataFrame:
    missing = [column for column in columns if column not in table]
    if missing:
        raise RunDirError(f"{path}: lacks column(s) {', '.join(missing)}; {RERUN}")
    return table


def _read_results(run_dir: Path) -> pd.DataFrame:
    parquet, csv = run_dir / "results.parquet", run_dir / "results.csv"
    if parquet.is_file():
        return _require(_read(parquet, pd.read_parquet), REQUIRED_COLUMNS, parquet)
    if csv.is_file():
        return _require(_read(csv, _read_csv), REQUIRED_COLUMNS, csv)
    raise RunDirError(f"{run_dir}: no results.parquet or results.csv; pass the folder `bench run` wrote")


def load_run(run_dir: str | Path) -> RunData:
    """Read a run directory; raise :class:`RunDirError` if it has no usable results table, no
    row with status ok, or a file that cannot be read."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: not a directory; pass the run folder given to `bench run --out`")
    table = _read_results(run_dir)
    ok = table["status"].astype(str) == "ok"
    if not ok.any():
        raise RunDirError(
            f"{run_dir}: none of its {len(table)} result rows has status ok, so there is nothing to report; "
            "see the error column of results.csv, fix the cause and run `bench run --retry-errors`"
        )
    failed = table.loc[~ok, "codec"].astype(str).value_counts().to_dict()
    results = table.loc[ok].copy()
    results["codec"] = results["codec"].astype(str)
    results["image"] = results["image"].astype(str)
    results["point"] = operating_point(results)
    if "ms_ssim" in results:
        results["ms_ssim_db"] = ms_ssim_db(results["ms_ssim"])
    distribution = None
    distribution_path = run_dir / "distribution_metrics.csv"
    if distribution_path.is_file():
        distribution = _require(_read(distribution_path, _read_csv), DISTRIBUTION_COLUMNS, distribution_path)
        distribution["codec"] = distribution["codec"].astype(str)
        distribution["bpp"] = distribution["mean_bpp"]
    metadata: dict[str, Any] = {}
    metadata_path = run_dir / "metadata.json"
    if metadata_path.is_file():
        metadata = _read(metadata_path, lambda path: json.loads(path.read_text()))
    return RunData(run_dir, results, failed, distribution, metadata)
