"""A study's raters and answers: ``answers.sqlite`` in the study folder (the one owner of that file).

The database is in WAL mode with ``synchronous=FULL``: :meth:`AnswerStore.record_many` returns only
after the answers' transaction is committed and synced, so an answer the server has acknowledged
survives a ``kill -9`` of the server (and a power cut). Writes go through one connection, reads
through another (WAL lets them run at once), so a commit in progress does not hold up lookups. An answer's key is (rater, slot): a second
post of the same slot is ignored and reported as a duplicate, so it counts once. Tokens are kept
only as their SHA-256: the database does not give rater links away. The schema is documented in
``docs/study.md``.
"""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from bench.study.design import Slot, StudyError

ANSWERS_DB = "answers.sqlite"
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS raters (
    id INTEGER PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    simulated INTEGER NOT NULL CHECK (simulated IN (0, 1)),
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    rater INTEGER NOT NULL REFERENCES raters (id),
    slot TEXT NOT NULL,
    trial TEXT NOT NULL,
    kind TEXT NOT NULL,
    image TEXT NOT NULL,
    left_condition TEXT NOT NULL,
    right_condition TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('left', 'right')),
    chosen TEXT NOT NULL,
    response_ms REAL,
    answered_at TEXT NOT NULL,
    simulated INTEGER NOT NULL CHECK (simulated IN (0, 1)),
    PRIMARY KEY (rater, slot)
);
"""
ANSWER_COLUMNS = ["rater", "slot", "trial", "kind", "image", "left_condition", "right_condition", "choice", "chosen",
                  "response_ms", "answered_at", "simulated"]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AnswerStore:
    """The answers database of one study folder; safe to share between threads (one lock)."""

    def __init__(self, study_dir: str | Path) -> None:
        self.path = Path(study_dir) / ANSWERS_DB
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            self._reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        except sqlite3.Error as exc:
            raise StudyError(f"{self.path}: cannot open the answers database ({exc}); check the study folder is writable") from None
        self._lock, self._read_lock = threading.Lock(), threading.Lock()

    def close(self) -> None:
        self._reader.close()
        self._db.close()

    def __enter__(self) -> "AnswerStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def add_raters(self, n: int, simulated: bool = False) -> list[tuple[int, str]]:
        """Make ``n`` raters; return each one's (index, token). The token is shown only here."""
        now = _now()
        made = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            start = self._db.execute("SELECT COALESCE(MAX(id) + 1, 0) FROM raters").fetchone()[0]
            for index in range(start, start + n):
                token = secrets.token_urlsafe(24)
                self._db.execute("INSERT INTO raters VALUES (?, ?, ?, ?)", (index, token_hash(token), int(simulated), now))
                made.append((index, token))
            self._db.execute("COMMIT")
        return made

    def rater(self, token: str) -> tuple[int, bool] | None:
        """(index, simulated) of the rater holding ``token``, or None."""
        with self._read_lock:
            row = self._reader.execute("SELECT id, simulated FROM raters WHERE token_sha256 = ?", (token_hash(token),)).fetchone()
        return None if row is None else (row[0], bool(row[1]))

    def record(self, rater: int, simulated: bool, slot: Slot, choice: str, response_ms: float | None) -> bool:
        """Store one answer and commit it; True if it is new, False if the slot was answered before
        (the first answer stays)."""
        return self.record_many([(rater, simulated, slot, choice, response_ms)])[0]

    def record_many(self, answers: Sequence[tuple[int, bool, Slot, str, float | None]]) -> list[bool]:
        """Store answers (each as :meth:`record` takes it) in one transaction and commit it; for each,
        whether it is new."""
        now = _now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                new = [self._db.execute(
                    "INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (rater, slot.id, slot.trial, slot.kind, slot.image, slot.left, slot.right, choice,
                     slot.left if choice == "left" else slot.right, response_ms, now, int(simulated)),
                ).rowcount == 1 for rater, simulated, slot, choice, response_ms in answers]
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return new

    def answered(self, rater: int) -> dict[str, str]:
        """Slot -> choice of every answer of ``rater``."""
        with self._read_lock:
            return dict(self._reader.execute("SELECT slot, choice FROM answers WHERE rater = ?", (rater,)).fetchall())

    def answers(self, include_simulated: bool = False) -> pd.DataFrame:
        """Every answer (human ones only unless ``include_simulated``), one row each."""
        where = "" if include_simulated else " WHERE simulated = 0"
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(ANSWER_COLUMNS)} FROM answers{where} ORDER BY rater, answered_at").fetchall()
        return pd.DataFrame(rows, columns=ANSWER_COLUMNS)

    def n_raters(self) -> dict[bool, int]:
        """Number of raters, by simulated."""
        with self._lock:
            rows = self._db.execute("SELECT simulated, COUNT(*) FROM raters GROUP BY simulated").fetchall()
        return {False: 0, True: 0} | {bool(simulated): n for simulated, n in rows}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
