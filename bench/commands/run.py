"""``bench run``: codecs x settings over a dataset into a resumable run directory."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.commands.options import (
    add_codec_arguments,
    add_device_argument,
    add_metric_arguments,
    codec_options,
    metric_options,
)
from bench.constants import CACHE_DIR_ENV, DATA_DIR_ENV
from bench.errors import BenchError
from bench.metrics.registry import DEFAULT_METRICS

if TYPE_CHECKING:
    import pandas as pd

    from bench.codecs.base import Codec
    from bench.datasets import SkippedFile
    from bench.metrics.base import Column
    from bench.rundir import RunDir
    from bench.runner import ImageSource

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
    from bench.cli import HelpFormatter

    parser = subparsers.add_parser("run", help="run codecs over a dataset", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--codecs", default="all", help="comma-separated codec names, or 'all' for every codec whose library is installed (see `bench codecs`)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dataset", default="kodak", help="dataset name from datasets.yaml (see `bench datasets`)")
    source.add_argument("--images", metavar="DIR_OR_GLOB", help="your own images instead of a dataset: a folder or a glob pattern")
    parser.add_argument("--out", required=True, type=Path, metavar="RUN_DIR", help="run directory (created; reused to resume)")
    parser.add_argument("--data-dir", type=Path, default=None, help=f"folder with local dataset copies, one sub-folder per dataset (default: ${DATA_DIR_ENV}; if neither is set, datasets are downloaded into the cache)")
    parser.add_argument("--cache-dir", type=Path, default=None, help=f"download cache (default: ${CACHE_DIR_ENV} or ~/.cache/codec-bench)")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N", help="use only the first N images")
    parser.add_argument("--metrics", default=DEFAULT_METRICS, help="comma-separated metric names, or 'all' for every metric that can run here (see docs/metrics.md)")
    parser.add_argument("--settings", action="append", default=[], metavar="CODEC=V1,V2,...", help="override a codec's settings grid (repeatable)")
    parser.add_argument("--target-bpp", default=None, metavar="B1,B2,...", help="instead of settings grids, pick each codec's setting per image to reach these bpp (codecs with a numeric quality knob)")
    parser.add_argument("--jobs", type=positive_int, default=None, help="worker processes; 1 runs in this process with every core for torch (default: one per core on the CPU, one per GPU with CUDA)")
    add_device_argument(parser)
    add_metric_arguments(parser)
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
    cluster.add_argument("--row-timeout", type=float, default=None, metavar="SECONDS", help="a task running past this many seconds per row becomes error rows and its worker is restarted (default: no limit)")
    add_codec_arguments(parser)
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


def parse_settings(overrides: list[str], codecs: dict[str, "Codec"]) -> dict[str, list[Any]]:
    """``["jpeg=10,50"]`` -> ``{"jpeg": [10, 50]}``, each value parsed by its codec."""
    settings = {}
    for override in overrides:
        name, separator, values = override.partition("=")
        if not separator or not values:
            raise BenchError(f"--settings {override!r}: expected CODEC=V1,V2,... such as jpeg=10,50,90")
        if name not in codecs:
            raise BenchError(f"--settings {override!r}: codec {name!r} is not selected by --codecs")
        try:
            settings[name] = [codecs[name].parse_setting(value.strip()) for value in values.split(",")]
        except ValueError as exc:
            raise BenchError(f"--settings {override!r}: {exc}") from None
    return settings


def resolve_images(args: argparse.Namespace) -> tuple[list["ImageSource"], list["SkippedFile"]]:
    """The images of ``--dataset`` or ``--images``, and what ``--images`` names but does not read."""
    from bench import datasets
    from bench.runner import ImageSource

    skipped: list[SkippedFile] = []
    if args.images:
        paths, skipped = datasets.images_from_pattern(args.images)
        dataset_name = Path(args.images).name if Path(args.images).is_dir() else Path(args.images).parent.name
        names = [path.name for path in paths]
        if len(set(names)) != len(names):
            raise BenchError(f"--images {args.images}: two files share a name; give one folder at a time")
    else:
        paths = datasets.resolve(args.dataset, args.data_dir, args.cache_dir, download=not args.no_download)
        dataset_name = args.dataset
    if args.limit is not None:
        paths = paths[: args.limit]
    return [ImageSource(dataset_name or "images", path.name, path) for path in paths], skipped


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


def cluster_backend(args: argparse.Namespace, codecs: dict[str, "Codec"], metrics: list[Any]) -> Any:
    """The Dask backend of ``--scheduler``, after checking the workers' library versions."""
    from bench.cluster import DaskBackend, check_workers, connect

    client = connect(args.scheduler, args.scheduler_timeout)
    libraries = sorted({part.library for part in [*codecs.values(), *metrics] if part.library})
    try:
        hosts = check_workers(client, libraries)
    except BenchError:
        client.close()
        raise
    return DaskBackend(client, jobs=args.jobs, shared_storage=args.shared_storage, row_timeout=args.row_timeout, workers_per_host=hosts)


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


def summarize(frame: "pd.DataFrame", metric_columns: list["Column"]) -> str:
    """One line per codec: rows, errors, the bpp range and mean metric values.

    The bpp range is that of the median over images at each operating point, from the lowest
    point to the highest: a tiny image (whose header alone is many bits per pixel) cannot
    stretch it.
    """
    import pandas as pd

    if frame.empty:
        return "no rows"
    ok = frame[frame["status"] == "ok"]
    numeric = [c.name for c in metric_columns if c.per == "image" and c.plotted and c.name in ok.columns]
    lines = []
    for codec, group in frame.groupby("codec", sort=True):
        good = ok[ok["codec"] == codec]
        text = f"  {codec:<22} rows {len(group):4d}  errors {int((group['status'] != 'ok').sum()):3d}"
        if not good.empty:
            medians = good.groupby("point")["bpp"].median()
            text += f"  median bpp {medians.min():.3f}-{medians.max():.3f}"
            for column in numeric:
                finite = pd.to_numeric(good[column], errors="coerce").replace([float("inf")], pd.NA).dropna()
                if not finite.empty:
                    text += f"  {column} {finite.mean():.4g}"
        lines.append(text)
    return "\n".join(lines)


def print_checks(frame: "pd.DataFrame", run_dir: "RunDir") -> None:
    """The conformance table (rows verified by a reference decoder) and the rows flagged as suspicious."""
    from bench.conformance import conformance_table, format_conformance
    from bench.plausibility import flag_counts, flag_rows

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


def grouped_reasons(reasons: dict[str, str]) -> str:
    """``{"a": "a: no weights (e.g. ...)", "b": "b: no weights ..."}`` -> ``"a, b (no weights)"``.

    The gist of each reason is its text after the name, up to its first ``: ``, `` (`` or ``;``:
    the full reasons of many codecs would fill a screen, and the listing commands give them.
    """
    groups: dict[str, list[str]] = {}
    for name, reason in reasons.items():
        gist = re.split(r": | \(|;", reason.removeprefix(f"{name}: "), maxsplit=1)[0].strip()
        groups.setdefault(gist, []).append(name)
    return "; ".join(f"{', '.join(names)} ({gist})" for gist, names in groups.items())


def run_command(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bench import distribution, runner
    from bench.benchmark import run_benchmark
    from bench.codecs.registry import select_codecs
    from bench.device import resolve_device
    from bench.metrics.registry import ALL, available_metrics, create_metrics
    from bench.rundir import RunDir

    run_dir = RunDir(args.out)
    run_dir.check_writable()
    shard = parse_shard(args.shard)
    # On a cluster each worker resolves --device itself (its GPUs are not this machine's).
    device = args.device if args.scheduler else resolve_device(args.device)
    codecs, skipped = select_codecs(args.codecs, codec_options(args, device))
    if skipped:
        print(f"bench: --codecs all: {len(skipped)} codec(s) cannot run here and are skipped "
              f"(`bench codecs` says what each needs): {grouped_reasons(skipped)}", file=sys.stderr)
    targets = parse_targets(args.target_bpp)
    if targets:
        for name in [name for name, codec in codecs.items() if codec.quality_range is None]:
            print(f"bench: --target-bpp: skipping codec {name}: it has no numeric quality knob to search", file=sys.stderr)
            del codecs[name]
    if not codecs:
        raise BenchError("no codec can run: see `bench codecs` for what each needs")
    metrics = create_metrics(args.metrics, metric_options(args, device))
    if args.metrics.strip() == ALL:
        metrics, missing = available_metrics(metrics)
        if missing:
            print(f"bench: --metrics all: {len(missing)} metric(s) not available here and left out: "
                  f"{grouped_reasons(missing)}", file=sys.stderr)
    else:
        for metric in metrics:
            metric.check()
    settings = parse_settings(args.settings, codecs)
    images, skipped = resolve_images(args)
    report_skipped(skipped, run_dir)
    plan = runner.RunPlan(
        images=images, codecs=codecs, metrics=metrics, settings=settings, target_bpps=targets,
        recon_dir=run_dir if args.save_recon else None, bitstream_dir=run_dir if args.save_bitstreams else None,
        verify=args.verify, device="cpu" if args.scheduler else device, shard=shard,
    )
    backend = cluster_backend(args, codecs, metrics) if args.scheduler else None
    with tqdm(unit="job", disable=None, file=sys.stderr) as progress:

        def started(total: int, pending: int) -> None:
            print(f"bench: {total} jobs ({len(images)} images x {len(codecs)} codecs), {total - pending} already done, "
                  f"{pending} to run", file=sys.stderr)
            progress.reset(total=pending)

        result = run_benchmark(
            plan, run_dir, jobs=args.jobs, retry_errors=args.retry_errors, cache_dir=args.cache_dir,
            metadata={"not_read": [{"file": str(entry.path), "reason": entry.reason} for entry in skipped],
                      "scheduler": args.scheduler, "shard": args.shard},
            on_start=started, on_rows=lambda rows: progress.update(len(rows)), backend=backend,
        )
    if backend is not None:
        backend.client.close()
    frame, table = result.results, result.distribution
    errors = frame[frame["status"] != "ok"]
    print(f"bench: {len(frame)} rows in {run_dir.results_csv}")
    print(summarize(frame, result.metric_columns))
    print_checks(frame, run_dir)
    if table is not None:
        print(f"bench: {len(table)} groups in {run_dir.distribution_csv}")
        print(distribution.format_table(table))
        warning = distribution.small_sample_warning(table)
        if warning:
            print(warning)
    if not errors.empty:
        print(f"bench: {len(errors)} rows with status=error, for example: {errors.iloc[0]['image']} / {errors.iloc[0]['codec']}: {errors.iloc[0]['error']}")
    return 0
