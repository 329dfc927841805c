"""``bench run``: codecs x settings over a dataset into a resumable run directory."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from bench.commands.options import add_device_argument, add_part_flags, part_options
from bench.constants import CACHE_DIR_ENV, DATA_DIR_ENV, DEFAULT_ROW_TIMEOUT
from bench.errors import BenchError
from bench.metrics.registry import DEFAULT_METRICS

if TYPE_CHECKING:
    import pandas as pd

    from bench.datasets import SkippedFile
    from bench.metrics.base import Column
    from bench.core.rundir import RunDir

#: Files ``--images`` does not read are named one per line up to this many, then counted.
SHOWN_SKIPPED = 5

DESCRIPTION = """\
Encode every image with every codec at every setting, decode the real bitstream, and
measure the decoded image. Rows go into RUN_DIR/results.sqlite as they finish and are
exported to results.csv and results.parquet. Running the same command again resumes:
finished rows are kept and nothing is done twice.

example:
  bench run --codecs all --dataset kodak --out runs/kodak
  bench run --codecs jpeg,webp --images 'photos/*.png' --out runs/mine --settings jpeg=10,50,90
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.commands import HelpFormatter

    parser = subparsers.add_parser("run", help="run codecs over a dataset", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--codecs", default="all", help="comma-separated codec names, or 'all' for every codec whose library is installed (see `bench codecs`)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dataset", default="sample", help="dataset name from datasets.yaml (see `bench datasets`); the default, sample, is four small Kodak crops that ship with codec-bench (no download)")
    source.add_argument("--images", metavar="DIR_OR_GLOB", help="your own images instead of a dataset: a folder or a glob pattern")
    parser.add_argument("--out", type=Path, metavar="RUN_DIR", help="run directory (created; reused to resume; default: runs/<dataset>, or runs/<folder> with --images)")
    parser.add_argument("--data-dir", type=Path, default=None, help=f"folder with local dataset copies, one sub-folder per dataset (default: ${DATA_DIR_ENV}; if neither is set, datasets are downloaded into the cache)")
    parser.add_argument("--cache-dir", type=Path, default=None, help=f"download cache (default: ${CACHE_DIR_ENV} or ~/.cache/codec-bench)")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N", help="use only the first N images")
    parser.add_argument("--metrics", default=DEFAULT_METRICS, help="comma-separated metric names, 'ctc' for JPEG AI's common test conditions set, or 'all' for every metric that can run here (see docs/metrics.md and bench metrics)")
    parser.add_argument("--settings", action="append", default=[], metavar="CODEC=V1,V2,...", help="override a codec's settings grid (repeatable)")
    parser.add_argument("--target-bpp", default=None, metavar="B1,B2,...", help="instead of settings grids, pick each codec's setting per image to reach these bpp (codecs with a numeric quality knob)")
    parser.add_argument("--jobs", type=positive_int, default=None, help="worker processes; 1 runs in this process with every core for torch (default: one per core on the CPU, one per GPU with CUDA)")
    parser.add_argument("--row-timeout", type=positive_float, default=DEFAULT_ROW_TIMEOUT, metavar="SECONDS", help="a task running past this many seconds per row becomes error rows naming the limit, its worker process is replaced and the run goes on (every backend; with --jobs 1 the codec is interrupted in this process)")
    parser.add_argument("--max-memory", metavar="SIZE", default=None, help="start a job only while the estimated peak memory of the jobs in flight stays within SIZE (16G, 512M); a job that cannot fit alone is an error row (default: the memory available when the run starts; docs/memory.md)")
    add_device_argument(parser)
    parser.add_argument("--save-recon", action="store_true", help="keep reconstructions as PNG under RUN_DIR/recon/<dataset>/<codec>/<point>/")
    parser.add_argument("--save-bitstreams", action="store_true", help="keep each row's bitstream under RUN_DIR/bitstreams/<dataset>/<codec>/<point>/ (image stem + the codec's extension)")
    parser.add_argument("--verify", action="store_true", help="decode every bitstream again with the codec's independent reference decoder (djpeg, dwebp, ...; learned codecs: a fresh process) and record the largest difference per row (docs/checks.md)")
    parser.add_argument("--retry-errors", action="store_true", help="run again the jobs whose rows have status=error")
    parser.add_argument("--no-download", action="store_true", help="never download a dataset; fail if no local or cached copy exists")
    parser.add_argument("--shard", metavar="I/N", default=None, help="run only shard I of N (0-based) of the jobs, by a stable hash of each job; merge the shards' run folders with `bench merge`")
    cluster = parser.add_argument_group("running on a Dask cluster (pip install codec-bench[cluster]; see README)")
    cluster.add_argument("--scheduler", metavar="ADDRESS", default=None, help="run the jobs on the Dask cluster of this scheduler (tcp://host:port, or a scheduler file); --jobs is then the number of tasks in flight (default: twice the cluster's worker threads)")
    cluster.add_argument("--scheduler-timeout", type=float, default=10.0, metavar="SECONDS", help="give up when the scheduler does not answer within this time")
    cluster.add_argument("--shared-storage", action="store_true", help="workers read the image files from the same paths (default: this machine sends each file's bytes)")
    from bench.codecs.registry import CODECS
    from bench.metrics.registry import METRICS

    add_part_flags(parser, CODECS)
    add_part_flags(parser, METRICS)
    parser.set_defaults(func=run_command)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value:g} is not > 0")
    return value


def parse_settings(overrides: list[str]) -> dict[str, list[str]]:
    """``["jpeg=10,50"]`` -> ``{"jpeg": ["10", "50"]}`` (each codec parses its own values)."""
    settings = {}
    for override in overrides:
        name, separator, values = override.partition("=")
        if not separator or not values:
            raise BenchError(f"--settings {override!r}: expected CODEC=V1,V2,... such as jpeg=10,50,90")
        settings[name] = values.split(",")
    return settings


def report_skipped(skipped: list["SkippedFile"], run_dir: "RunDir") -> None:
    """One line per file not read, up to :data:`SHOWN_SKIPPED`, then a count (all are in metadata.json)."""
    for entry in skipped[:SHOWN_SKIPPED]:
        print(f"bench: not read: {entry.path}: {entry.reason}", file=sys.stderr)
    if len(skipped) > SHOWN_SKIPPED:
        print(f"bench: ... and {len(skipped) - SHOWN_SKIPPED} more not read; all {len(skipped)} are listed under "
              f"not_read in {run_dir.file('metadata.json')}", file=sys.stderr)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"1/3"`` -> ``(1, 3)``: shard 1 of 3, numbered from 0."""
    if text is None:
        return None
    index, separator, count = text.partition("/")
    try:
        shard = (int(index), int(count))
    except ValueError:
        shard = None
    if not separator or shard is None or not 0 <= shard[0] < shard[1]:
        raise BenchError(f"--shard {text!r}: expected I/N with 0 <= I < N, such as 0/4 (shards are numbered from 0)")
    return shard


def cluster_backend(args: argparse.Namespace) -> Any:
    """The Dask backend of ``--scheduler`` (it checks the workers' library versions when the run starts)."""
    from bench.core.cluster import DaskBackend, connect

    return DaskBackend(connect(args.scheduler, args.scheduler_timeout), jobs=args.jobs, shared_storage=args.shared_storage,
                       row_timeout=args.row_timeout)


def parse_targets(text: str | None) -> list[float]:
    if not text:
        return []
    try:
        targets = [float(value) for value in text.split(",")]
    except ValueError:
        raise BenchError(f"--target-bpp {text!r}: expected numbers such as 0.1,0.2,0.4") from None
    if any(target <= 0 for target in targets):
        raise BenchError("--target-bpp: every target must be above 0")
    return targets


#: Columns the summary, the checks and the error line read from the results table (beside its metrics).
SUMMARY_COLUMNS = ("error", "suspect", "psnr", "reference_check", "reference_max_diff", "reference_decoder",
                   "bitstream_sha256")


def summarize(frame: "pd.DataFrame", metric_columns: list["Column"]) -> str:
    """The run summary (:func:`bench.report.summary.run_summary`) as aligned terminal lines."""
    from bench.report.summary import run_summary

    if frame.empty:
        return "no rows"
    summary = run_summary(frame, metric_columns)
    header = ["codec", "rows", "errors", "median bpp"] + [f"{name} @{rate:g}" for name in summary.metrics for rate in summary.rates]
    lines = []
    for line in summary.codecs:
        cells = [line.codec, str(line.rows), str(line.errors),
                 f"{line.bpp_range[0]:.3f}-{line.bpp_range[1]:.3f}" if line.bpp_range else "-"]
        cells += [f"{value:.4g}" if value == value else "-" for value in line.at_rates]
        lines.append(cells)
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    aligned = [
        "  " + "  ".join(cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths)))
        for row in [header, *lines]
    ]
    single = []
    for point in summary.single_points:
        values = ", ".join(f"{name} {value:.4g}" for name, value in point.values.items())
        single.append(f"  {point.codec}: one operating point ({point.point}), mean {point.bpp:.3f} bpp{': ' + values if values else ''}")
    note = (f"  (metrics at {' and '.join(f'{rate:g}' for rate in summary.rates)} bpp on each codec's mean curve; "
            "every metric and curve: bench report)") if summary.rates else ""
    return "\n".join(aligned + single + ([note] if note else []))


class Progress:
    """The run's progress on stderr: the job count, a bar (on a terminal only), and, once the first
    jobs have taken :data:`ESTIMATE_AFTER_SECONDS`, a line with the jobs done and the time left,
    again every :data:`REFRESH_SECONDS` while the run lasts, when the time left is more than
    :data:`LONG_RUN_SECONDS`. The estimate is refreshed because jobs differ: a run's first minute is
    often its fast classical codecs, and the learned ones come later."""

    ESTIMATE_AFTER_SECONDS = 15.0
    LONG_RUN_SECONDS = 60.0
    REFRESH_SECONDS = 60.0

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        import time

        self.clock = clock or time.perf_counter
        self.what = ""
        self.bar: Any = None
        self.pending = self.done = 0
        self.started = 0.0
        self.last_line: float | None = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def planned(self, plan: Any, run_dir: "RunDir", notes: list[Any], not_read: list["SkippedFile"]) -> None:
        """Before any work: what was left out, and what the job count is made of."""
        for note in notes:
            print(f"bench: {FLAGS[note.about]}: {note.text}", file=sys.stderr)
        report_skipped(not_read, run_dir)
        self.what = f"{len(plan.images)} images x {len(plan.codecs)} codecs"

    def start(self, total: int, pending: int) -> None:
        from tqdm import tqdm

        print(f"bench: {total} jobs ({self.what}), {total - pending} already done, {pending} to run", file=sys.stderr)
        # Made only now: a bar made before its total prints a stray "0job [00:00, ?job/s]".
        self.bar = tqdm(total=pending, unit="job", disable=None, file=sys.stderr)
        self.pending, self.started = pending, self.clock()

    def update(self, rows: Any) -> None:
        self.done += len(rows)
        if self.bar is not None:
            self.bar.update(len(rows))
        now = self.clock()
        elapsed = now - self.started
        due = self.last_line is None or now - self.last_line >= self.REFRESH_SECONDS
        if not due or elapsed < self.ESTIMATE_AFTER_SECONDS or self.done >= self.pending:
            return
        left = elapsed / self.done * (self.pending - self.done)
        if left > self.LONG_RUN_SECONDS:
            self.last_line = now
            message = (f"bench: {self.done} of {self.pending} jobs done in {format_duration(elapsed)}, about "
                       f"{format_duration(left)} left; Ctrl-C stops it, the same command resumes")
            (self.bar.write if self.bar is not None and not self.bar.disable else print)(message, file=sys.stderr)


def format_duration(seconds: float) -> str:
    """``75`` -> ``"1 min"``, ``5400`` -> ``"1 h 30 min"``, ``20`` -> ``"20 s"``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def format_complexity(table: "pd.DataFrame") -> str:
    """One aligned line per learned codec and point: parameters, kMAC/pixel, coding times."""
    import math

    header = ["codec", "point", "params enc/dec (M)", "kMAC/px enc/dec", "encode s ±range (entropy)", "decode s ±range (entropy)"]
    lines = [header]
    for record in table.to_dict("records"):
        if isinstance(record.get("complexity_error"), str):
            lines.append([str(record["codec"]), str(record["point"]), f"not measured: {record['complexity_error']}", "", "", ""])
            continue

        def pair(a: str, b: str, digits: int, scale: float = 1.0) -> str:
            return f"{record[a] / scale:.{digits}f}/{record[b] / scale:.{digits}f}"

        def timed(total: str, entropy: str) -> str:
            if math.isnan(record[total]):
                return "-"
            spread = record.get(f"{total}_spread", math.nan)
            return f"{record[total]:.3f}{'' if math.isnan(spread) else f' ±{spread:.3f}'} ({record[entropy]:.3f})"

        lines.append([str(record["codec"]), str(record["point"]), pair("params_encoder", "params_decoder", 2, 1e6),
                      pair("kmac_per_pixel_encode", "kmac_per_pixel_decode", 1), timed("encode_seconds", "entropy_seconds_encode"),
                      timed("decode_seconds", "entropy_seconds_decode")])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in lines)


def print_checks(frame: "pd.DataFrame", run_dir: "RunDir") -> None:
    """The conformance table (rows verified by a reference decoder) and the rows flagged as suspicious."""
    from bench.commands.tables import format_conformance
    from bench.core.conformance import conformance_table
    from bench.core.plausibility import flag_counts, flag_rows

    table = conformance_table(frame)
    if not table.empty:
        print("bench: reference decoding (--verify):")
        print(format_conformance(table))
    flags = flag_rows(frame)
    if not flags.empty:
        counts = ", ".join(f"{codec} {count}" for codec, count in flag_counts(flags).items())
        first = flags.iloc[0]
        print(f"bench: suspicious rows (docs/checks.md): {counts}; e.g. {first['image']} / {first['codec']} / "
              f"{first['point']}: {first['reason']} (all in `bench report {run_dir.path}`)")


#: The flag of each argument of :func:`bench.api.run` that notes are about.
FLAGS = {"codecs": "--codecs all", "metrics": "--metrics all", "target_bpp": "--target-bpp"}


def run_command(args: argparse.Namespace) -> int:
    from bench import api
    from bench.codecs.registry import CODECS
    from bench.commands.tables import format_distribution, small_sample_warning
    from bench.core.memory import parse_size
    from bench.device import resolve_device
    from bench.metrics.registry import METRICS

    shard = parse_shard(args.shard)
    # On a cluster each worker resolves --device itself (its GPUs are not this machine's).
    device = args.device if args.scheduler else resolve_device(args.device)
    codec_parts, metric_parts = part_options(args, CODECS), part_options(args, METRICS)
    backend = cluster_backend(args) if args.scheduler else None
    try:
        with Progress() as progress:
            result = api.run(
                args.codecs, dataset=args.dataset, images=args.images, out=args.out, metrics=args.metrics,
                settings=parse_settings(args.settings), target_bpp=parse_targets(args.target_bpp), device=device,
                jobs=args.jobs, backend=backend, row_timeout=args.row_timeout,
                max_memory=parse_size(args.max_memory) if args.max_memory else None, save_reconstructions=args.save_recon, save_bitstreams=args.save_bitstreams,
                verify=args.verify, limit=args.limit, shard=shard, retry_errors=args.retry_errors, data_dir=args.data_dir,
                cache_dir=args.cache_dir, download=not args.no_download, codec_options=codec_parts, metric_options=metric_parts,
                metadata={"scheduler": args.scheduler, "shard": args.shard},
                on_plan=progress.planned, on_start=progress.start, on_rows=progress.update,
            )
    finally:
        if backend is not None:
            backend.client.close()
    run_dir = result.run_dir
    # Only the columns the summary and the checks read: a run of millions of rows fits in memory.
    summarized = [column.name for column in result.metric_columns if column.per == "image" and column.plotted]
    frame, table = run_dir.read_results(columns=[*SUMMARY_COLUMNS, *summarized]), result.distribution
    errors = frame[frame["status"] != "ok"]
    print(f"bench: {len(frame)} rows in {run_dir.results_csv}")
    print(summarize(frame, result.metric_columns))
    print_checks(frame, run_dir)
    if result.complexity is not None and not result.complexity.empty:
        print(f"bench: learned codecs' complexity on {result.complexity['image'].iloc[0]} ({run_dir.file('complexity.csv')}):")
        print(format_complexity(result.complexity))
    if table is not None:
        print(f"bench: {len(table)} groups in {run_dir.distribution_csv}")
        print(format_distribution(table))
        warning = small_sample_warning(table)
        if warning:
            print(warning)
    if not errors.empty:
        print(f"bench: {len(errors)} rows with status=error, for example: {errors.iloc[0]['image']} / {errors.iloc[0]['codec']}: {errors.iloc[0]['error']}")
    return 0
