"""The ``bench`` command line."""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import warnings
from typing import Any

import bench
from bench.codecs.base import CodecUnavailable
from bench.commands import HelpFormatter
from bench.errors import BenchError

#: Each module defines ``add_parser(subparsers)``, which sets ``func`` on its parser.
COMMAND_MODULES = [
    "bench.commands.run",
    "bench.commands.merge",
    "bench.commands.recover",
    "bench.commands.codecs",
    "bench.commands.metrics",
    "bench.commands.datasets",
    "bench.commands.report",
    "bench.commands.train",
    "bench.commands.study",
]

USER_ERRORS = (BenchError, CodecUnavailable)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench",
        description="Benchmark lossy image codecs: bpp, PSNR, MS-SSIM, LPIPS, FID/KID, reports.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"codec-bench {bench.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def show_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: str | None = None
) -> None:
    """A library warning outside any job, as one clean line (no source line)."""
    print(f"bench: warning: {category.__name__}: {' '.join(str(message).split())}", file=sys.stderr)


def interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: supervisors and schedulers stop a run by signalling its process."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    warnings.showwarning = show_warning
    signal.signal(signal.SIGTERM, interrupt)
    # A parent that ignores SIGINT (a shell's background job, a test runner) passes that on; a run stops on it anyway.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; finished rows are stored and exported, run the same command again to resume", file=sys.stderr)
        return 130


def entry() -> None:
    """The ``bench`` program: :func:`main`, then exit with its status. After an interrupt (everything
    stored and exported by then) it exits at once: the interpreter's exit would otherwise join the
    process pool's threads, which can wait on a worker stuck in a codec; workers die with this process."""
    status = main()
    if status == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(status)


if __name__ == "__main__":
    entry()
