"""The run directory: every file ``bench run`` writes there, and how ``bench report`` reads it back.

Layout of ``bench run --out RUN_DIR``::

    results.sqlite                  the store, written row by row (``bench/core/store.py``)
    results.csv, results.parquet    the tidy table, one row per image x codec x operating point
    distribution_metrics.csv/.parquet   FID/KID per dataset x codec x operating point
    complexity.csv                  learned codecs' parameters, kMAC/pixel, memory, time split per operating point
    metrics.json                    what each metric column holds (label, unit, direction...)
    metadata.json                   versions, machine, command lines and times of every invocation
    recon/<dataset>/<codec>/<point>/<image>.png     reconstructions (``--save-recon``)
    bitstreams/<dataset>/<codec>/<point>/<image stem><codec's extension>   bitstreams (``--save-bitstreams``)

Every export is written to a temporary file in the folder and then renamed over the old one
(``os.replace``), so a reader, or a run killed mid-export, sees the old file or the new one,
never a half-written one. The results table is streamed from the store a chunk of rows at a
time (:data:`~bench.core.store.FETCH_ROWS`): its memory does not grow with the run.

The writer side is used by ``bench run``, the reader side by ``bench report`` and ``bench
compare``. Each row names its own reconstruction (``recon_path``, relative to the folder).
The reader also opens folders written before that (a ``quality`` column instead of
``point`` and ``setting``, no ``metrics.json``, reconstructions under the setting's name).
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar


from bench.errors import BenchError
from bench.metrics.base import Column
from bench.core.points import setting_label
from bench.core.rows import BASE_COLUMNS, INTEGER_COLUMNS, REQUIRED_COLUMNS, TRAILING_COLUMNS, upgrade_table

RESULTS_DB = "results.sqlite"
RESULTS_TABLE = "results"
DISTRIBUTION_TABLE = "distribution_metrics"
COMPLEXITY_FILE = "complexity.csv"
METRIC_COLUMNS_FILE = "metrics.json"
METADATA_FILE = "metadata.json"
RECON_DIR = "recon"
BITSTREAM_DIR = "bitstreams"

#: How to get a run's files written again.
RERUN = "run the same `bench run` command again to re-export it"

T = TypeVar("T")


def check_writable_place(folder: Path) -> None:
    """Refuse, before any work, a run folder that cannot be created or written (its nearest existing
    ancestor is not writable)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        what = "the run folder is not writable" if existing == folder else f"cannot be made: {existing} is not writable"
        raise RunDirError(f"--out {folder}: {what}; make it writable (chmod u+w, or a file system mounted read-write) "
                          "or give another --out")


class RunDirError(BenchError):
    """A run directory that cannot be read or written, with a one-line reason and a fix."""


class RunDir:
    """One run directory: its file names, its writer side and its reader side."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    def table_file(self, table: str, suffix: str) -> Path:
        return self.path / f"{table}.{suffix}"

    @property
    def results_csv(self) -> Path:
        return self.table_file(RESULTS_TABLE, "csv")

    @property
    def distribution_csv(self) -> Path:
        return self.table_file(DISTRIBUTION_TABLE, "csv")

    # -- writer side ---------------------------------------------------------------------

    def check_writable(self) -> None:
        """Refuse a path that is a file, or a place that cannot be written (before any work, so that nothing is lost)."""
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"--out {self.path} is a file; give a run directory (new, or an earlier run's to resume)")
        check_writable_place(self.path)

    def create(self) -> None:
        """Make the folder, or reuse it to resume."""
        self.check_writable()
        self.path.mkdir(parents=True, exist_ok=True)

    def open_store(self) -> Any:
        """The run's :class:`~bench.core.store.ResultStore` (a context manager)."""
        from bench.core.store import ResultStore

        return ResultStore(self.file(RESULTS_DB))

    @staticmethod
    def recon_relpath(dataset: str, codec: str, point: str, image_name: str) -> str:
        """``recon/<dataset>/<codec>/<point>/<image stem>.png``: ``holiday.jpg`` and ``kodim03.png``
        become ``holiday.png`` and ``kodim03.png`` (a run refuses two images with one stem)."""
        return f"{RECON_DIR}/{dataset}/{codec}/{point}/{Path(image_name).stem}.png"

    @staticmethod
    def bitstream_relpath(dataset: str, codec: str, point: str, image_name: str, extension: str) -> str:
        """``bitstreams/<dataset>/<codec>/<point>/<image stem><extension>``, e.g. ``.../kodim03.jpg``."""
        return f"{BITSTREAM_DIR}/{dataset}/{codec}/{point}/{Path(image_name).stem}{extension}"

    def has_bitstream(self, row: dict[str, Any]) -> bool:
        """Whether a store row's bitstream file exists."""
        relpath = row.get("bitstream_path")
        return isinstance(relpath, str) and (self.path / relpath).is_file()

    def save_file(self, data: bytes, relpath: str) -> Path:
        """Write a row's file byte for byte at ``relpath``: its bitstream, or its reconstruction's PNG bytes."""
        path = self.path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def has_reconstruction(self, row: dict[str, Any]) -> bool:
        """Whether a store row's reconstruction file exists."""
        return (self.path / row_recon_relpath(row)).is_file()

    def write_results(self, store: Any, metric_columns: Sequence[Column], chunk_rows: int | None = None) -> int:
        """Write ``results.csv`` and ``results.parquet`` from the rows of ``store`` (a
        :class:`~bench.core.store.ResultStore`), as :func:`results_table` would lay them out, one
        chunk of rows at a time; return how many rows were written."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from bench.core.store import FETCH_ROWS

        size = chunk_rows or FETCH_ROWS
        layout = TableLayout(metric_columns)
        for rows in store.row_chunks(size, ordered=False):  # first pass: the columns and their types
            layout.add(rows)
        mixed = layout.mixed_columns()
        if mixed:
            raise RunDirError(f"{self.path}: column(s) {', '.join(mixed)} hold text in some rows and other values in others, "
                              "which a Parquet column cannot; the codec or metric that writes them must give one type")
        count = 0
        with _replaced(self.results_csv) as csv_path, _replaced(self.table_file(RESULTS_TABLE, "parquet")) as parquet_path:
            with csv_path.open("w", newline="") as csv_file, pq.ParquetWriter(parquet_path, layout.schema) as parquet:
                for rows in store.row_chunks(size) if not layout.empty else [[]]:
                    table = layout.frame(rows)
                    table.to_csv(csv_file, header=not count, index=False)
                    parquet.write_table(pa.Table.from_pandas(table, schema=layout.schema, preserve_index=False))
                    count += len(table)
        return count

    def write_distribution(self, table: Any) -> None:
        with _replaced(self.distribution_csv) as path:
            table.to_csv(path, index=False)
        with _replaced(self.table_file(DISTRIBUTION_TABLE, "parquet")) as path:
            table.to_parquet(path, index=False)

    def write_complexity(self, rows: list[dict[str, Any]]) -> Any:
        """Add ``rows`` (``bench/codecs/complexity.py``) to ``complexity.csv``, replacing rows of the same
        codec and point; return the whole table, or None when there is none."""
        import pandas as pd

        table = self.read_complexity()
        if rows:
            new = pd.DataFrame.from_records(rows)
            if table is not None:
                keep = ~table.set_index(["codec", "point"]).index.isin(new.set_index(["codec", "point"]).index)
                new = pd.concat([table[keep], new], ignore_index=True)
            table = new.sort_values(["codec", "point"], kind="stable").reset_index(drop=True)
            with _replaced(self.file(COMPLEXITY_FILE)) as path:
                table.to_csv(path, index=False)
        return table

    def read_complexity(self) -> Any:
        """``complexity.csv`` (``point`` as text), or None when the run has none."""
        path = self.file(COMPLEXITY_FILE)
        if not path.is_file():
            return None
        table = _require(_read(path, _read_csv), ("codec", "point"), path)
        table["point"] = table["point"].map(setting_label)
        return table

    def write_metric_columns(self, columns: Iterable[Column]) -> list[Column]:
        """Add ``columns`` to ``metrics.json`` (a run folder accumulates); return them all."""
        merged = {column.name: column for column in self.read_metric_columns(fallback=False)}
        merged.update({column.name: column for column in columns})
        text = json.dumps({"columns": [column.to_dict() for column in merged.values()]}, indent=2)
        with _replaced(self.file(METRIC_COLUMNS_FILE)) as path:
            path.write_text(text + "\n")
        return list(merged.values())

    def write_metadata(self, invocations: list[dict[str, Any]]) -> None:
        """``metadata.json``: the latest invocation's facts plus the history of all of them."""
        latest = dict(invocations[-1])
        latest["first_started"] = invocations[0]["started"]
        latest["invocations"] = invocations
        with _replaced(self.file(METADATA_FILE)) as path:
            path.write_text(json.dumps(latest, indent=2))

    # -- reader side ---------------------------------------------------------------------

    def check_readable(self) -> None:
        if not self.path.is_dir():
            raise RunDirError(f"{self.path}: not a directory; pass the run folder given to `bench run --out`")

    def read_results(self, columns: Iterable[str] | None = None, ok_only: bool = False) -> Any:
        """The results table, in today's columns whatever code wrote it; with ``columns``, only
        those of them it has (and the key columns), so that a large run's table costs only them;
        with ``ok_only``, only the rows whose status is ok, read without the others (each keeps
        its position in the whole table as its index label)."""
        import pandas as pd
        import pyarrow.parquet as pq

        parquet, csv = self.table_file(RESULTS_TABLE, "parquet"), self.results_csv
        wanted = None if columns is None else {*REQUIRED_COLUMNS, *columns}
        if parquet.is_file():
            if wanted is not None:
                names = _read(parquet, lambda path: pq.read_schema(path).names)
                # A table written before operating points is read whole: its upgrade needs every column.
                wanted = wanted if "point" in names else None
            selected = None if wanted is None else [name for name in names if name in wanted]
            path, table = parquet, _read(parquet, lambda path: _read_parquet(path, selected, ok_only))
        elif csv.is_file():
            path, table = csv, _read(csv, _read_csv)
            if wanted is not None and "point" in table:
                table = table[[name for name in table.columns if name in wanted]]
            if ok_only and "status" in table:
                table = table[table["status"].astype(str) == "ok"]
        else:
            raise RunDirError(f"{self.path}: no {parquet.name} or {csv.name}; pass the folder `bench run` wrote")
        return _require(upgrade_table(table, _legacy_recon_relpath), REQUIRED_COLUMNS, path)

    def read_distribution(self) -> Any:
        """``distribution_metrics.csv`` (with a ``point`` column), or None when the run has none."""
        if not self.distribution_csv.is_file():
            return None
        table = _read(self.distribution_csv, _read_csv)
        if "point" not in table and "quality" in table:  # written before `point` existed: quality was the point
            table = table.rename(columns={"quality": "point"})
        table = _require(table, ("codec", "point", "mean_bpp"), self.distribution_csv)
        table["point"] = table["point"].map(setting_label)
        return table

    def read_metadata(self) -> dict[str, Any]:
        path = self.file(METADATA_FILE)
        return _read(path, lambda p: json.loads(p.read_text())) if path.is_file() else {}

    def read_metric_columns(self, fallback: bool = True) -> list[Column]:
        """The stored metric column descriptions; for a folder without them (written before
        ``metrics.json`` existed), with ``fallback``, those of the built-in metrics."""
        path = self.file(METRIC_COLUMNS_FILE)
        if path.is_file():
            content = _read(path, lambda p: json.loads(p.read_text()))
            return [Column.from_dict(values) for values in content.get("columns", [])]
        return builtin_metric_columns() if fallback else []

    def reconstruction(self, row: Any) -> Path | None:
        """The reconstruction file of a results row, or None when it was not saved."""
        relpath = row.get("recon_path")
        if not isinstance(relpath, str) or not relpath:
            return None
        path = self.path / relpath
        return path if path.is_file() else None


def row_recon_relpath(row: dict[str, Any]) -> str:
    """Where a store row's reconstruction is: its ``recon_path``, or for rows written before
    rows named it, the old layout (under the setting used, not the point)."""
    return row.get("recon_path") or _legacy_recon_relpath(row["dataset"], row["codec"], setting_label(row["setting"]), row["image"])


def _legacy_recon_relpath(dataset: str, codec: str, setting: str, image_name: str) -> str:
    """Where run folders written before rows named their reconstruction kept it: under the
    setting's name, with ``.png`` added to the image's name unless it already ended so."""
    file_name = image_name if image_name.lower().endswith(".png") else image_name + ".png"
    return f"{RECON_DIR}/{dataset}/{codec}/{setting}/{file_name}"


#: A folder without ``metrics.json`` (written before it existed) is described by the built-in metrics
#: of the time, at most these nine: the JPEG AI set came later and never wrote such a folder.
LEGACY_METRICS = ("psnr", "ms_ssim", "lpips", "fid", "kid", "ssimulacra2", "butteraugli", "vmaf", "niqe")


def builtin_metric_columns() -> list[Column]:
    """The column descriptions of the built-in metrics a folder without ``metrics.json`` may hold."""
    from bench.metrics.registry import BUILTIN_METRICS
    from bench.plugins import load_object

    return [column for name in LEGACY_METRICS for column in load_object(BUILTIN_METRICS[name]).columns]


def results_table(rows: list[dict[str, Any]], metric_columns: Sequence[Column] = ()) -> Any:
    """Store rows as the tidy table: base columns, metric columns, timing and status, extras.

    ``setting`` stays numeric when every setting is a number and becomes text otherwise (e.g.
    a learned codec's checkpoint name), so CSV and Parquet read back alike. Rows are sorted by
    dataset, codec, setting, image and point (the order :meth:`RunDir.write_results` streams).
    """
    layout = TableLayout(metric_columns)
    layout.add(rows)
    # All rows at once: pandas infers each column's type from the whole column.
    return layout.table(sorted(rows, key=_export_order))


class TableLayout:
    """The columns of a results table and their types, learnt from its rows chunk by chunk
    (:meth:`add`), so that every chunk :meth:`frame` makes is typed as the whole table would be:
    the chunks written one after another equal the whole table written at once."""

    def __init__(self, metric_columns: Sequence[Column] = ()) -> None:
        self.metric_names = [column.name for column in metric_columns if column.per == "image"]
        #: Column -> one value of each Python type seen in it (the types decide pandas' dtype).
        self.samples: dict[str, dict[type, Any]] = {}
        #: Column -> rows that hold it (a row without it makes the column nullable).
        self.holding: dict[str, int] = {}
        self.rows = 0
        self.numeric_setting = True
        self._typed: Any = None

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            for name, value in row.items():
                self.samples.setdefault(name, {}).setdefault(type(value), value)
                self.holding[name] = self.holding.get(name, 0) + 1
            if self.numeric_setting and row.get("setting") is not None and not _is_number(row["setting"]):
                self.numeric_setting = False
        self.rows += len(rows)
        self._typed = None

    def mixed_columns(self) -> list[str]:
        """Columns holding text in some rows and another type (not None) in others."""
        return [name for name in self.columns
                if str in self.samples.get(name, {}) and set(self.samples[name]) - {str, type(None)}
                and not (name == "setting" and not self.numeric_setting)]

    @property
    def empty(self) -> bool:
        return self.rows == 0

    @property
    def columns(self) -> list[str]:
        leading = [*BASE_COLUMNS, *[name for name in self.metric_names if name in self.samples], *TRAILING_COLUMNS]
        return [*leading, *sorted(set(self.samples) - set(leading))]

    def frame(self, rows: Sequence[dict[str, Any]]) -> Any:
        """``rows`` (in the order given) as a table of this layout's columns and types."""
        table = self.table(rows)
        for column, dtype in self.typed.dtypes.items():
            if table[column].dtype != dtype:
                table[column] = table[column].astype(dtype)
        return table

    @property
    def schema(self) -> Any:
        """The Parquet (Arrow) schema of the whole table."""
        import pyarrow as pa

        return pa.Schema.from_pandas(self.typed, preserve_index=False)

    @property
    def typed(self) -> Any:
        """A few rows holding, in each column, one value of each type the rows hold there (and
        a row without it where some row lacks it), made as :meth:`frame` makes a chunk: pandas
        infers a dtype from the types present, so its dtypes are the whole table's."""
        if self._typed is None:
            absent = object()
            values = {}
            for name, samples in self.samples.items():
                values[name] = [*samples.values(), *([absent] if self.holding[name] < self.rows else [])]
            count = max((len(column) for column in values.values()), default=0)
            # Padding repeats a column's first value: one more value of a type present changes nothing.
            padded = {name: column + [column[0]] * (count - len(column)) for name, column in values.items()}
            records = [{name: column[index] for name, column in padded.items() if column[index] is not absent}
                       for index in range(count)]
            self._typed = self.table(records)
        return self._typed

    def table(self, rows: Sequence[dict[str, Any]]) -> Any:
        """``rows`` as a table of this layout's columns, each typed by what ``rows`` hold."""
        import pandas as pd

        table = pd.DataFrame(list(rows), columns=self.columns)
        if not self.numeric_setting:
            table["setting"] = table["setting"].map(lambda value: None if value is None else str(value))
        for column in INTEGER_COLUMNS:
            table[column] = table[column].astype("Int64")
        return table


def _export_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """The order of the tidy table (the store sorts alike in SQL, ``store._EXPORT_ORDER``)."""
    return (row["dataset"], row["codec"], _setting_order(row.get("setting")), row["image"], row["point"])


@contextmanager
def _replaced(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed over ``path`` when the block succeeds,
    removed when it fails (``path`` then keeps its old content)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _setting_order(value: Any) -> tuple[int, float, str]:
    if _is_number(value):
        return (0, float(value), "")
    return (1, 0.0, str(value)) if value is not None else (2, 0.0, "")


def _read(path: Path, reader: Callable[[Path], T]) -> T:
    """``reader(path)``; a malformed file becomes a :class:`RunDirError` naming it."""
    try:
        return reader(path)
    except (OSError, ValueError) as exc:  # pandas, pyarrow and json report malformed files as ValueError
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunDirError(f"{path}: cannot be read ({reason}); {RERUN}") from None


def _read_parquet(path: Path, columns: list[str] | None, ok_only: bool) -> Any:
    """``results.parquet`` (``columns`` of it, or all); with ``ok_only`` its ok rows, filtered as
    Arrow reads them, so that the other rows never become Python objects."""
    import pandas as pd

    if not ok_only:
        return pd.read_parquet(path, columns=columns)
    status = pd.read_parquet(path, columns=["status"])["status"]
    ok = status.index[status.astype(str) == "ok"]
    table = pd.read_parquet(path, columns=columns, filters=[("status", "==", "ok")])
    if len(table) != len(ok):  # pragma: no cover - Arrow keeps a file's row order; this says so if not
        raise ValueError("rows with status ok read back in another number")
    table.index = ok
    return table


def _read_csv(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _require(table: Any, columns: tuple[str, ...], path: Path) -> Any:
    missing = [column for column in columns if column not in table]
    if missing:
        raise RunDirError(f"{path}: lacks column(s) {', '.join(missing)}; {RERUN}")
    return table
