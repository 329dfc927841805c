"""File-system faults while a run writes its folder, as one line that says what to do.

A run folder is written by one process (the store row by row, then the exports); what it stored
before a fault stays stored, so every line ends by saying that running the same command again
resumes. The faults: a folder that cannot be written (read-only file system, permissions), a full
disk or a file-size limit (``RLIMIT_FSIZE``), at the database or at an export, and a damaged
database (``bench recover`` rebuilds it from the exports).
"""
from __future__ import annotations

import errno
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bench.core.rundir import RESULTS_DB, RunDirError
from bench.core.store import SQLITE_FULL, SQLITE_UNWRITABLE

#: Errors of a disk that has no room (or of a file past the process's size limit).
FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
#: Errors of a place that cannot be written.
UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
SQLITE_DAMAGED = ("malformed", "not a database")


@contextmanager
def storage_errors(folder: Path) -> Iterator[None]:
    """Translate the file-system faults of writing the run folder ``folder`` into :class:`RunDirError`."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise RunDirError(_sqlite_reason(folder, exc)) from None
    except OSError as exc:
        if exc.errno not in FULL | UNWRITABLE:
            raise
        raise RunDirError(_reason(folder, exc.filename or folder, exc.errno, exc.strerror or str(exc))) from None


def _reason(folder: Path, where: object, code: int, text: str) -> str:
    kept = f"then run the same command again to resume (the rows stored so far are kept in {Path(folder) / RESULTS_DB})"
    if code in FULL:
        return f"{where}: {text}: the disk is full (or a file-size limit is set); free space, {kept}"
    return f"{where}: {text}: cannot write in the run folder; make it writable (chmod u+w, a read-write mount), {kept}"


def _sqlite_reason(folder: Path, exc: sqlite3.DatabaseError) -> str:
    database = Path(folder) / RESULTS_DB
    message = str(exc)
    if any(words in message.lower() for words in SQLITE_DAMAGED):
        return (f"{database} is damaged ({message}); `bench recover {folder}` rebuilds it from the exported "
                "results.parquet / results.csv, then run the same command again")
    if any(words in message.lower() for words in SQLITE_UNWRITABLE):
        return _reason(folder, database, errno.EACCES, message)
    if any(words in message.lower() for words in SQLITE_FULL):
        return _reason(folder, database, errno.ENOSPC, message)
    return f"{database}: {message}; run the same command again to resume (the rows stored so far are kept)"
