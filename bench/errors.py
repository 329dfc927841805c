"""Errors the command line reports as one line and a non-zero exit, without a traceback."""


class BenchError(Exception):
    """A user-facing problem: the message says what is wrong and how to fix it."""
