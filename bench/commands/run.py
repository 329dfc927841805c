"""``bench run``: codecs x settings over a dataset into a resumable run directory."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from bench import datasets, distribution, runner
from bench.codecs.base import Codec
from bench.codecs.registry import add_provider_arguments, select_codecs
from bench.errors import BenchError
from bench.metadata import now, run_metadata
from bench.metrics.lpips import LPIPS_NETS
from bench.metrics.registry import DEFAULT_METRICS, create_metrics
from bench.weights import WEIGHTS_DIR_ENV
from bench.store import ResultStore, export

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
    parser.add_argument("--data-dir", type=Path, default=None, help=f"folder with local dataset copies, one sub-folder per dataset (default: ${datasets.DATA_DIR_ENV}; if neither is set, datasets are downloaded into the cache)")
    parser.add_argument("--cache-dir", type=Path, default=None, help=f"download cache (default: ${datasets.CACHE_DIR_ENV} or ~/.cache/codec-bench)")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N", help="use only the first N images")
    parser.add_argument("--metrics", default=DEFAULT_METRICS, help="comma-separated metric names")
    parser.add_argument("--settings", action="append", default=[], metavar="CODEC=V1,V2,...", help="override a codec's settings grid (repeatable)")
    parser.add_argument("--target-bpp", default=None, metavar="B1,B2,...", help="instead of settings grids, pick each codec's setting per image to reach these bpp (codecs with a numeric quality knob)")
    parser.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1, help="worker processes, one core each; 1 runs in this process")
    parser.add_argument("--device", default="auto", help="torch device for learned codecs and network metrics: auto (cuda when available, else cpu), cpu, cuda, cuda:1")
    parser.add_argument("--weights-dir", type=Path, default=None, help=f"folder with pretrained weights for lpips/fid/kid, one sub-folder per network (default: ${WEIGHTS_DIR_ENV}; if neither is set, the libraries download them)")
    parser.add_argument("--lpips-net", choices=LPIPS_NETS, default="alex", help="LPIPS backbone")
    parser.add_argument("--save-recon", action="store_true", help="keep reconstructions as PNG under RUN_DIR/recon/<dataset>/<codec>/<setting>/")
    parser.add_argument("--retry-errors", action="store_true", help="run again the jobs whose rows have status=error")
    parser.add_argument("--no-download", action="store_true", help="never download a dataset; fail if no local or cached copy exists")
    add_provider_arguments(parser)
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


def resolve_device(name: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; other names are checked."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise BenchError(f"--device {name!r} is not a torch device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BenchError(f"--device {name}: torch sees no CUDA device here; use --device cpu")
    return name


def parse_settings(overrides: list[str], codecs: dict[str, Codec]) -> dict[str, list[Any]]:
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


def resolve_images(args: argparse.Namespace) -> list[runner.ImageSource]:
    if args.images:
        paths = datasets.images_from_pattern(args.images)
        dataset_name = Path(args.images).name if Path(args.images).is_dir() else Path(args.images).parent.name
        names = [path.name for path in paths]
        if len(set(names)) != len(names):
            raise BenchError(f"--images {args.images}: two files share a name; give one folder at a time")
    else:
        paths = datasets.resolve(args.dataset, args.data_dir, args.cache_dir, download=not args.no_download)
        dataset_name = args.dataset
    if args.limit is not None:
        paths = paths[: args.limit]
    return [runner.ImageSource(dataset_name or "images", path.name, path) for path in paths]


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


def summarize(frame: pd.DataFrame) -> str:
    """One line per codec: rows, errors, bpp range and mean metric values."""
    if frame.empty:
        return "no rows"
    ok = frame[frame["status"] == "ok"]
    numeric = [c for c in ("psnr", "ms_ssim", "lpips") if c in ok.columns]
    lines = []
    for codec, group in frame.groupby("codec", sort=True):
        good = ok[ok["codec"] == codec]
        text = f"  {codec:<22} rows {len(group):4d}  errors {int((group['status'] != 'ok').sum()):3d}"
        if not good.empty:
            text += f"  bpp {good['bpp'].min():.3f}-{good['bpp'].max():.3f}"
            for column in numeric:
                finite = good[column].replace([float('inf')], pd.NA).dropna()
                if not finite.empty:
                    text += f"  {column} {finite.mean():.4g}"
        lines.append(text)
    return "\n".join(lines)


def run_command(args: argparse.Namespace) -> int:
    run_dir: Path = args.out
    if run_dir.exists() and not run_dir.is_dir():
        raise BenchError(f"--out {run_dir} is a file; give a run directory (new, or an earlier run's to resume)")
    args.device = resolve_device(args.device)
    options = vars(args).copy()
    codecs, skipped = select_codecs(args.codecs, options)
    for name, reason in skipped.items():
        print(f"bench: skipping codec {name}: {reason}", file=sys.stderr)
    targets = parse_targets(args.target_bpp)
    if targets:
        for name in [name for name, codec in codecs.items() if codec.quality_range is None]:
            print(f"bench: --target-bpp: skipping codec {name}: it has no numeric quality knob to search", file=sys.stderr)
            del codecs[name]
    if not codecs:
        raise BenchError("no codec can run: see `bench codecs` for what each needs")
    metrics = create_metrics(args.metrics, options)
    for metric in metrics:
        metric.check()
    settings = parse_settings(args.settings, codecs)
    images = resolve_images(args)
    run_dir.mkdir(parents=True, exist_ok=True)
    plan = runner.RunPlan(
        images=images, codecs=codecs, metrics=metrics, settings=settings, target_bpps=targets,
        recon_dir=run_dir / "recon" if args.save_recon else None,
    )
    libraries = [codec.library for codec in codecs.values()] + [m.library for m in metrics if m.library]
    metadata = run_metadata(libraries)
    metadata.update(
        dataset=images[0].dataset if images else args.dataset,
        image_count=len(images),
        codecs={name: {"version": codec.version(), "settings": [str(s) for s in settings.get(name, codec.settings)]} for name, codec in codecs.items()},
        metrics=[m.name for m in metrics],
        target_bpp=targets,
        jobs=args.jobs,
    )
    with ResultStore(run_dir / "results.sqlite") as store:
        invocation = store.record_invocation(metadata)
        pending = len(runner.pending_jobs(plan, store, args.retry_errors))
        total = len(plan.jobs())
        print(f"bench: {total} jobs ({len(images)} images x {len(codecs)} codecs), {total - pending} already done, {pending} to run", file=sys.stderr)
        with tqdm(total=pending, unit="job", disable=None, file=sys.stderr) as progress:
            runner.execute(plan, store, jobs=args.jobs, retry_errors=args.retry_errors, on_rows=lambda rows: progress.update(len(rows)))
        metadata["finished"] = now()
        store.update_invocation(invocation, metadata)
        frame = export(store, run_dir)
        if distribution.distribution_metrics(metrics):
            table = distribution.export_distribution(store, run_dir, images, metrics, args.cache_dir or datasets.default_cache_dir())
        write_metadata(store, run_dir)
    errors = frame[frame["status"] != "ok"]
    print(f"bench: {len(frame)} rows in {run_dir / 'results.csv'}")
    print(summarize(frame))
    if distribution.distribution_metrics(metrics):
        print(f"bench: {len(table)} groups in {run_dir / (distribution.TABLE_NAME + '.csv')}")
        print(table.drop(columns="fid_note").to_string(index=False, float_format="{:.4g}".format))
        warning = distribution.small_sample_warning(table)
        if warning:
            print(warning)
    if not errors.empty:
        print(f"bench: {len(errors)} rows with status=error, for example: {errors.iloc[0]['image']} / {errors.iloc[0]['codec']}: {errors.iloc[0]['error']}")
    return 0


def write_metadata(store: ResultStore, run_dir: Path) -> None:
    """``metadata.json``: the latest invocation's facts plus the history of all of them."""
    invocations = store.invocations()
    latest = dict(invocations[-1])
    latest["first_started"] = invocations[0]["started"]
    latest["invocations"] = invocations
    (run_dir / "metadata.json").write_text(json.dumps(latest, indent=2))
