"""The results store of a run directory: SQLite, written task by task as jobs finish.

``results.sqlite`` holds one row per job (image x codec x operating point), keyed by
``(dataset, image, codec, point)`` where ``point`` is the operating point's label (``"50"``,
``"lo"``, ``"target_bpp=0.2"``). The rows of each finished task (a few settings of one image
and codec) are committed in one transaction, so an interrupted run loses at most the tasks in
flight. The store also keeps the features of distribution metrics, the cached values of their
groups, and the metadata of every invocation. ``bench/core/rundir.py`` exports the tidy tables.

Records come and go as :class:`~bench.core.rows.Measured`: the row (stored as JSON), its set
metrics' features (the ``features`` table) and its metric signatures (kept in the row's JSON
under :data:`SIGNATURES_FIELD`, this file's own detail, never exported).

A store written before operating points had their own column (key column ``setting``, rows
with ``setting`` = label and ``quality`` = setting used) is upgraded when opened.
"""
from __future__ import annotations

import io
import json
import sqlite3
import struct
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from bench.core.rows import Key, Measured, upgrade_row
from bench.errors import BenchError

#: Rows fetched from SQLite at a time by the streaming readers (their memory does not grow with the store).
FETCH_ROWS = 10_000
#: Images named in one query of :meth:`ResultStore.records_of` (SQLite allows 999 parameters at least).
IMAGES_PER_QUERY = 500



def _setting_sort_key(text: str) -> bytes:
    """A stored row's setting as bytes that sort (``memcmp``, as SQLite compares BLOBs) in the
    tidy table's order: numbers by value, then text, then none (``rundir._setting_order``).

    A SQL function rather than ``json_extract``: rows hold ``Infinity`` (a lossless PSNR), which
    SQLite's JSON parser refuses. A row written before operating points keeps its setting under
    ``quality`` (see :func:`~bench.core.rows.upgrade_row`).
    """
    row = json.loads(text)
    value = row["quality"] if "quality" in row else row.get("setting")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        (bits,) = struct.unpack(">Q", struct.pack(">d", float(value)))
        # IEEE 754 bits as an unsigned number sort like the floats once negatives are inverted.
        return b"\x00" + struct.pack(">Q", bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | 1 << 63)
    return b"\x01" + str(value).encode("utf-8") if value is not None else b"\x02"


#: The export order of :func:`bench.core.rundir.results_table` in SQL: dataset, codec, setting, image, point.
_EXPORT_ORDER = "dataset, codec, setting_sort_key(row), image, point"

#: Where a stored row's JSON keeps ``{metric name: signature}`` (the store's own format).
SIGNATURES_FIELD = "_signatures"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    dataset TEXT NOT NULL,
    image TEXT NOT NULL,
    codec TEXT NOT NULL,
    point TEXT NOT NULL,
    status TEXT NOT NULL,
    row TEXT NOT NULL,
    PRIMARY KEY (dataset, image, codec, point)
);
CREATE TABLE IF NOT EXISTS features (
    dataset TEXT NOT NULL,
    image TEXT NOT NULL,
    codec TEXT NOT NULL,
    point TEXT NOT NULL,
    feature_key TEXT NOT NULL,
    array BLOB NOT NULL,
    PRIMARY KEY (dataset, image, codec, point, feature_key)
);
CREATE TABLE IF NOT EXISTS invocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    metadata TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS distribution_cache (
    digest TEXT PRIMARY KEY,
    result TEXT NOT NULL
);
"""


#: SQLite's words for a disk without room and a place that cannot be written (its messages carry no errno).
SQLITE_FULL = ("disk i/o error", "database or disk is full", "file is too large")
SQLITE_UNWRITABLE = ("readonly database", "unable to open database file")


def is_storage_fault(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite failed for want of room or of write access (not for a damaged file)."""
    return any(words in str(exc).lower() for words in SQLITE_FULL + SQLITE_UNWRITABLE)


class ResultStore:
    """A run directory's SQLite database of result rows.

    Rows are plain dicts; ``dataset``, ``image``, ``codec`` and ``point`` identify them.
    Writing a key again replaces it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(self.path, timeout=60)
        try:
            # WAL + FULL sync: a committed row survives kill -9 and power loss.
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=FULL")
            self.connection.create_function("setting_sort_key", 1, _setting_sort_key, deterministic=True)
            _upgrade_schema(self.connection)
            self.connection.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.connection.close()
            if is_storage_fault(exc):  # not the file's fault: bench.core.storage_faults says what to do
                raise
            raise BenchError(
                f"{self.path} is not a readable results database ({exc}); `bench recover {self.path.parent}` rebuilds it "
                "from what it still reads and the exports, or move it away to start the run afresh"
            ) from None

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def finished_keys(self, include_errors: bool = True) -> set[Key]:
        query = "SELECT dataset, image, codec, point FROM results"
        if not include_errors:
            query += " WHERE status = 'ok'"
        return {tuple(row) for row in self.connection.execute(query)}  # type: ignore[misc]

    def write(self, records: Iterable[Measured]) -> None:
        """Write records (rows, their features and signatures) in one transaction (all or none survive)."""
        records = list(records)
        features = [(*record.key, key, _npy_bytes(array)) for record in records for key, array in record.features.items()]
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO results (dataset, image, codec, point, status, row) VALUES (?, ?, ?, ?, ?, ?)",
                [(*record.key, record.row["status"], json.dumps({**record.row, SIGNATURES_FIELD: record.signatures}))
                 for record in records],
            )
            self.connection.executemany("INSERT OR REPLACE INTO features VALUES (?, ?, ?, ?, ?, ?)", features)

    def records_of(self, dataset: str, images: Sequence[str]) -> Iterator[tuple[str, Measured]]:
        """``(status, record)`` of every row of these images of ``dataset`` (a planner's chunk;
        the primary key's index finds them)."""
        for start in range(0, len(images), IMAGES_PER_QUERY):
            names = list(images[start : start + IMAGES_PER_QUERY])
            query = f"SELECT status, row FROM results WHERE dataset = ? AND image IN ({', '.join('?' * len(names))})"
            for status, text in self.connection.execute(query, (dataset, *names)):
                yield status, _record(text)

    def keys_with_features(self, feature_key: str, dataset: str, images: Sequence[str]) -> set[Key]:
        """Keys of the rows of these images of ``dataset`` that hold features under ``feature_key``."""
        keys: set[Key] = set()
        for start in range(0, len(images), IMAGES_PER_QUERY):
            names = list(images[start : start + IMAGES_PER_QUERY])
            query = (f"SELECT dataset, image, codec, point FROM features WHERE feature_key = ? AND dataset = ? "
                     f"AND image IN ({', '.join('?' * len(names))})")
            keys.update(tuple(row) for row in self.connection.execute(query, (feature_key, dataset, *names)))  # type: ignore[misc]
        return keys

    def row_chunks(self, size: int = FETCH_ROWS, ordered: bool = True) -> Iterator[list[dict[str, Any]]]:
        """Every row as exported, ``size`` rows at a time, in the tidy table's order
        (:func:`bench.core.rundir.results_table`) unless not ``ordered``: SQLite sorts (on disk
        when large), so memory holds one chunk."""
        cursor = self.connection.execute("SELECT row FROM results" + (f" ORDER BY {_EXPORT_ORDER}" if ordered else ""))
        while chunk := cursor.fetchmany(size):
            yield [_record(text).row for (text,) in chunk]

    def features(self, feature_key: str) -> dict[Key, np.ndarray]:
        """The stored features under ``feature_key``, by row key."""
        query = "SELECT dataset, image, codec, point, array FROM features WHERE feature_key = ?"
        return {
            (dataset, image, codec, point): np.load(io.BytesIO(array))
            for dataset, image, codec, point, array in self.connection.execute(query, (feature_key,))
        }

    def ok_records(self) -> Iterator[Measured]:
        """Every row with status ok, with its signatures (not its features: see :meth:`features`)."""
        for (text,) in self.connection.execute("SELECT row FROM results WHERE status = 'ok'"):
            yield _record(text)

    def records(self) -> Iterator[Measured]:
        """Every row, with its signatures (not its features)."""
        for (text,) in self.connection.execute("SELECT row FROM results"):
            yield _record(text)

    def feature_keys(self) -> list[str]:
        """The feature keys the store holds features under."""
        return [key for (key,) in self.connection.execute("SELECT DISTINCT feature_key FROM features ORDER BY feature_key")]

    def keys_missing_features(self, feature_keys: Iterable[str]) -> set[Key]:
        """Keys of ok rows that lack features under any of ``feature_keys`` (to be run again)."""
        missing: set[Key] = set()
        for feature_key in feature_keys:
            query = (
                "SELECT dataset, image, codec, point FROM results WHERE status = 'ok' AND NOT EXISTS "
                "(SELECT 1 FROM features f WHERE f.dataset = results.dataset AND f.image = results.image "
                "AND f.codec = results.codec AND f.point = results.point AND f.feature_key = ?)"
            )
            missing.update(tuple(row) for row in self.connection.execute(query, (feature_key,)))  # type: ignore[misc]
        return missing

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row as exported (without the store's own fields)."""
        for record in self.records():
            yield record.row

    def cached_result(self, digest: str) -> dict[str, float] | None:
        """A distribution metric's stored group value under ``digest``, if computed before."""
        hit = self.connection.execute("SELECT result FROM distribution_cache WHERE digest = ?", (digest,)).fetchone()
        return json.loads(hit[0]) if hit else None

    def cache_result(self, digest: str, result: dict[str, float]) -> None:
        with self.connection:
            self.connection.execute("INSERT OR REPLACE INTO distribution_cache VALUES (?, ?)", (digest, json.dumps(result)))

    def record_invocation(self, metadata: dict[str, Any]) -> int:
        with self.connection:
            cursor = self.connection.execute("INSERT INTO invocations (metadata) VALUES (?)", (json.dumps(metadata),))
        return int(cursor.lastrowid)

    def update_invocation(self, invocation_id: int, metadata: dict[str, Any]) -> None:
        with self.connection:
            self.connection.execute("UPDATE invocations SET metadata = ? WHERE id = ?", (json.dumps(metadata), invocation_id))

    def invocations(self) -> list[dict[str, Any]]:
        return [json.loads(text) for (text,) in self.connection.execute("SELECT metadata FROM invocations ORDER BY id")]



def _record(text: str) -> Measured:
    row = upgrade_row(json.loads(text))
    signatures = row.pop(SIGNATURES_FIELD, {})
    return Measured(row, signatures=signatures)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _upgrade_schema(connection: sqlite3.Connection) -> None:
    """Rename the key column ``setting`` of a store written before operating points to ``point``."""
    for table in ("results", "features"):
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if "setting" in columns and "point" not in columns:
            with connection:
                connection.execute(f"ALTER TABLE {table} RENAME COLUMN setting TO point")


def salvage(path: str | Path) -> tuple[list[Measured], list[tuple[Any, ...]], list[str]]:
    """What a damaged store still reads, row by row: (records with their signatures, feature rows,
    invocation metadata texts). A row on a damaged page is skipped, not the table."""
    connection = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        records = [_record(text) for (text,) in _readable(connection, "results", "row")]
        features = _readable(connection, "features", "dataset, image, codec, point, feature_key, array")
        invocations = [text for (text,) in _readable(connection, "invocations", "metadata")]
    finally:
        connection.close()
    return records, features, invocations


def _readable(connection: sqlite3.Connection, table: str, columns: str) -> list[tuple[Any, ...]]:
    """The rows of ``table`` that can be read, one rowid at a time past the first failure."""
    try:
        return list(connection.execute(f"SELECT {columns} FROM {table}"))
    except sqlite3.DatabaseError:
        pass
    try:
        (last,) = connection.execute(f"SELECT max(rowid) FROM {table}").fetchone()
    except sqlite3.DatabaseError:
        return []
    rows = []
    for rowid in range(1, (last or 0) + 1):
        try:
            rows.extend(connection.execute(f"SELECT {columns} FROM {table} WHERE rowid = ?", (rowid,)))
        except sqlite3.DatabaseError:
            continue
    return rows


def rebuild(path: str | Path, records: Iterable[Measured], features: Iterable[tuple[Any, ...]], invocations: Iterable[str]) -> None:
    """A new store at ``path`` (which must not exist) holding ``records``, ``features`` and ``invocations``."""
    with ResultStore(path) as store:
        store.write(records)
        with store.connection:
            store.connection.executemany("INSERT OR REPLACE INTO features VALUES (?, ?, ?, ?, ?, ?)", list(features))
            store.connection.executemany("INSERT INTO invocations (metadata) VALUES (?)", [(text,) for text in invocations])
