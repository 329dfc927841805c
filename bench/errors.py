"""Errors the command line reports as one line and a non-zero exit, without a traceback."""
from __future__ import annotations

import re

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
#: Longest message :func:`one_line` keeps (a library's error can be a page long).
ONE_LINE_LIMIT = 400


class BenchError(Exception):
    """A user-facing problem: the message says what is wrong and how to fix it."""


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes."""
    return _ANSI_ESCAPE.sub("", text)


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line: colour codes dropped, whitespace collapsed, long text cut."""
    text = " ".join(strip_ansi(str(exc)).split())
    if len(text) > ONE_LINE_LIMIT:
        text = text[: ONE_LINE_LIMIT - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
