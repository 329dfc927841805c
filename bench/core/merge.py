"""Merging run folders (shards of one run, made with ``bench run --shard I/N``) into one.

The merged folder's tables equal those of the unsharded run: every row and its features are
copied into one store, and the set metrics (FID, KID) are computed again over the merged rows,
never copied from a shard. Folders measured under different metric settings (another LPIPS
network, other weights) are refused. A row key (dataset, image, codec, point) found twice keeps
one row: an ok row over an error row, else the first folder's.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from bench.errors import BenchError
from bench.core.rundir import RESULTS_DB, RunDir


class MergeError(BenchError):
    pass


@dataclass
class MergeResult:
    rows: int
    duplicates: int
    distribution: Any = None


def _signatures(records: Iterable[Any], source: Path, found: dict[str, tuple[str, Path]]) -> None:
    """Record each metric's signature; refuse one that differs from another folder's."""
    for record in records:
        for metric, signature in record.signatures.items():
            seen = found.setdefault(metric, (signature, source))
            if seen[0] != signature:
                raise MergeError(
                    f"{source} measured {metric} under other settings than {seen[1]} ({signature!r} vs {seen[0]!r}); "
                    "merge only shards of one run made with the same metric options"
                )


def merge_runs(
    out: str | Path, runs: Sequence[str | Path], cache_dir: str | Path | None = None, metric_options: Iterable[Any] = (),
    device: str = "cpu",
) -> MergeResult:
    """Merge the run folders ``runs`` into ``out`` (created; an existing run folder gains their rows); the
    set metrics' features of the originals are computed on torch ``device``."""
    from bench import datasets
    from bench.core import distribution
    from bench.core.plan import ImageSource
    from bench.metrics.base import Metric
    from bench.metrics.registry import metric_classes, select_metrics

    target = RunDir(out)
    sources = [RunDir(run) for run in runs]
    for source in sources:
        if not source.file(RESULTS_DB).is_file():
            raise MergeError(f"{source.path}: no {RESULTS_DB}; pass run folders written by `bench run`")
    target.create()
    chosen: dict[tuple[str, ...], Any] = {}
    signatures: dict[str, tuple[str, Path]] = {}
    duplicates, invocations, columns, images = 0, [], [], {}
    for source in sources:
        with source.open_store() as store:
            records = list(store.records())
            _signatures(records, source.path, signatures)
            features = {key: store.features(key) for key in store.feature_keys()}
            found = store.invocations()
        invocations += found
        for record in records:
            key = record.key
            record.features = {name: arrays[key] for name, arrays in features.items() if key in arrays}
            if key in chosen:
                duplicates += 1
                if chosen[key].row["status"] == "ok" or record.row["status"] != "ok":
                    continue
            chosen[key] = record
        columns += source.read_metric_columns(fallback=False)
        for invocation in found:
            for dataset, name, path in invocation.get("images", []):
                images[(dataset, name)] = ImageSource(dataset, name, Path(path))
    metric_columns = target.write_metric_columns(columns)
    with target.open_store() as store:
        store.write(chosen.values())
        for invocation in invocations:
            store.record_invocation(invocation)
        count = target.write_results(store, metric_columns)
        table = None
        classes = metric_classes()
        # Metrics of sets: their rows keep features beside them (see Metric.feature_keys).
        names = [name for name in sorted(signatures)
                 if isinstance(classes.get(name), type) and classes[name].feature_keys is not Metric.feature_keys]
        set_metrics = list(select_metrics(",".join(names), metric_options).chosen.values()) if names else []
        if set_metrics:
            for metric in set_metrics:
                metric.use_device(device)
                if metric.signature() != signatures[metric.name][0]:
                    raise MergeError(
                        f"{metric.name}: the shards were measured with {signatures[metric.name][0]!r}, this machine gives "
                        f"{metric.signature()!r}; pass the same --weights-dir as the shards had"
                    )
            merged = {(row["dataset"], row["image"]) for row in store.rows()}
            wanted = [image for image in images.values() if (image.dataset, image.name) in merged]
            missing = [image for image in wanted if not Path(image.path).is_file()]
            if missing:
                raise MergeError(f"FID/KID need the original images; {missing[0].path} is not here (where the shard read it)")
            table = distribution.distribution_table(store, wanted, set_metrics, Path(cache_dir or datasets.default_cache_dir()))
            target.write_distribution(table)
        target.write_metadata(store.invocations())
    return MergeResult(count, duplicates, table)

