"""The results store of a run directory: SQLite written row by row, exported as tidy tables.

``results.sqlite`` holds one row per job (image x codec x setting), keyed by
``(dataset, image, codec, setting)``. The rows of each finished task (a few settings of
one image and codec) are committed in one transaction, so an interrupted run loses at
most the tasks in flight. The tidy tables ``results.csv`` and ``results.parquet`` are
regenerated from it at the end of every run. A run directory accumulates: rows of every
invocation into it are kept and exported together.
"""
from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd

from bench.errors import BenchError

RESULT_COLUMNS = (
    "dataset", "image", "width", "height", "codec", "codec_version", "quality", "bytes", "bpp",
    "psnr", "ms_ssim", "encode_seconds", "decode_seconds", "status", "error",
)
KEY_COLUMNS = ("dataset", "image", "codec", "setting")
#: A row may carry ``{feature_key: N x D array}`` under this field (distribution metrics);
#: the arrays go to the ``features`` table, not into the row.
FEATURES_FIELD = "_features"
#: ``{metric name: signature}`` of the metrics measured for a row; stored, never exported.
SIGNATURES_FIELD = "_signatures"
TIMING_COLUMNS = ("encode_seconds", "decode_seconds")
#: Integer columns, empty (not 0) in error rows.
INTEGER_COLUMNS = ("width", "height", "bytes")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    dataset TEXT NOT NULL,
    image TEXT NOT NULL,
    codec TEXT NOT NULL,
    setting TEXT NOT NULL,
    status TEXT NOT NULL,
    row TEXT NOT NULL,
    PRIMARY KEY (dataset, image, codec, setting)
);
CREATE TABLE IF NOT EXISTS features (
    dataset TEXT NOT NULL,
    image TEXT NOT NULL,
    codec TEXT NOT NULL,
    setting TEXT NOT NULL,
    feature_key TEXT NOT NULL,
    array BLOB NOT NULL,
    PRIMARY KEY (dataset, image, codec, setting, feature_key)
);
CREATE TABLE IF NOT EXISTS invocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    metadata TEXT NOT NULL
);
"""

Key = tuple[str, str, str, str]


class ResultStore:
    """A run directory's SQLite database of result rows.

    Rows are plain dicts; the key columns plus ``setting`` (the job's setting label,
    e.g. ``"50"`` or ``"target_bpp=0.2"``) identify them. Writing a key again replaces it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(self.path, timeout=60)
        try:
            # WAL + FULL sync: a committed row survives kill -9 and power loss.
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=FULL")
            self.connection.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.connection.close()
            raise BenchError(
                f"{self.path} is not a readable results database ({exc}); move it away to start the run afresh"
            ) from None

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def finished_keys(self, include_errors: bool = True) -> set[Key]:
        query = "SELECT dataset, image, codec, setting FROM results"
        if not include_errors:
            query += " WHERE status = 'ok'"
        return {tuple(row) for row in self.connection.execute(query)}  # type: ignore[misc]

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Write rows, and the features they carry, in one transaction (all or none survive)."""
        rows = [dict(row) for row in rows]
        features = [
            (*_key(row), feature_key, _npy_bytes(array))
            for row in rows
            for feature_key, array in row.pop(FEATURES_FIELD, {}).items()
        ]
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO results (dataset, image, codec, setting, status, row) VALUES (?, ?, ?, ?, ?, ?)",
                [(*_key(row), row["status"], json.dumps(row)) for row in rows],
            )
            self.connection.executemany("INSERT OR REPLACE INTO features VALUES (?, ?, ?, ?, ?, ?)", features)

    def features(self, feature_key: str) -> dict[Key, np.ndarray]:
        """The stored features under ``feature_key``, by row key."""
        query = "SELECT dataset, image, codec, setting, array FROM features WHERE feature_key = ?"
        return {
            (dataset, image, codec, setting): np.load(io.BytesIO(array))
            for dataset, image, codec, setting, array in self.connection.execute(query, (feature_key,))
        }

    def ok_rows(self) -> Iterator[tuple[Key, dict[str, Any]]]:
        """(key, row) of every row with status ok."""
        for *key, text in self.connection.execute("SELECT dataset, image, codec, setting, row FROM results WHERE status = 'ok'"):
            yield tuple(key), json.loads(text)  # type: ignore[misc]

    def keys_missing_features(self, feature_keys: Iterable[str]) -> set[Key]:
        """Keys of ok rows that lack features under any of ``feature_keys`` (to be run again)."""
        missing: set[Key] = set()
        for feature_key in feature_keys:
            query = (
                "SELECT dataset, image, codec, setting FROM results WHERE status = 'ok' AND NOT EXISTS "
                "(SELECT 1 FROM features f WHERE f.dataset = results.dataset AND f.image = results.image "
                "AND f.codec = results.codec AND f.setting = results.setting AND f.feature_key = ?)"
            )
            missing.update(tuple(row) for row in self.connection.execute(query, (feature_key,)))  # type: ignore[misc]
        return missing

    def rows(self) -> Iterator[dict[str, Any]]:
        for (text,) in self.connection.execute("SELECT row FROM results"):
            yield json.loads(text)

    def record_invocation(self, metadata: dict[str, Any]) -> int:
        with self.connection:
            cursor = self.connection.execute("INSERT INTO invocations (metadata) VALUES (?)", (json.dumps(metadata),))
        return int(cursor.lastrowid)

    def update_invocation(self, invocation_id: int, metadata: dict[str, Any]) -> None:
        with self.connection:
            self.connection.execute("UPDATE invocations SET metadata = ? WHERE id = ?", (json.dumps(metadata), invocation_id))

    def invocations(self) -> list[dict[str, Any]]:
        return [json.loads(text) for (text,) in self.connection.execute("SELECT metadata FROM invocations ORDER BY id")]

    def table(self) -> pd.DataFrame:
        """All rows as a tidy DataFrame (see :func:`to_table`)."""
        return to_table(list(self.rows()))


def _key(row: dict[str, Any]) -> Key:
    return (row["dataset"], row["image"], row["codec"], row["setting"])


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def to_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a DataFrame with the standard columns first, extras after, in a stable order.

    ``quality`` stays numeric when every codec's setting is a number and becomes text
    otherwise (e.g. a learned codec's checkpoint name), so CSV and Parquet read back alike.
    The internal ``setting`` key column and the stored signatures are dropped.
    """
    internal = {"setting", SIGNATURES_FIELD}
    extra = sorted({column for row in rows for column in row} - set(RESULT_COLUMNS) - internal)
    rows = sorted(rows, key=lambda row: (row["dataset"], row["codec"], _quality_order(row.get("quality")), row["image"], row["setting"]))
    frame = pd.DataFrame(rows, columns=[*RESULT_COLUMNS, *extra, "setting"])
    if not all(_is_number(value) for value in frame["quality"].dropna()):
        frame["quality"] = frame["quality"].map(lambda value: None if value is None else str(value))
    for column in INTEGER_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    return frame.drop(columns="setting")


def _quality_order(value: Any) -> tuple[int, float, str]:
    if _is_number(value):
        return (0, float(value), "")
    return (1, 0.0, str(value)) if value is not None else (2, 0.0, "")


def export(store: ResultStore, run_dir: str | Path) -> pd.DataFrame:
    """Write ``results.csv`` and ``results.parquet`` into ``run_dir`` and return the table."""
    run_dir = Path(run_dir)
    frame = store.table()
    frame.to_csv(run_dir / "results.csv", index=False)
    frame.to_parquet(run_dir / "results.parquet", index=False)
    return frame
