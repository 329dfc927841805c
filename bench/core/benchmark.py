"""A whole run from Python: what ``bench run`` does with a plan, without the command line.

    from bench.core.benchmark import run_benchmark
    result = run_benchmark(plan, "runs/mine")     # plan: a bench.core.plan.RunPlan
    result.results                                # the tidy table (pandas), as in results.csv

The run directory accumulates and resumes exactly as with ``bench run``: rows already there
are kept, and only the jobs that still need work run.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from bench.core import execution
from bench.core.plan import RunPlan
from bench.core.rundir import RunDir
from bench.metadata import now, run_metadata

if TYPE_CHECKING:
    import pandas as pd

    from bench.metrics.base import Column


@dataclass
class BenchmarkResult:
    run_dir: RunDir
    #: How many rows the run directory holds.
    row_count: int
    #: FID/KID per dataset x codec x operating point (``distribution_metrics.csv``), or None.
    distribution: "pd.DataFrame | None"
    #: Descriptions of every metric column of the run (``metrics.json``).
    metric_columns: "list[Column]"
    #: Learned codecs' complexity per operating point (``complexity.csv``), or None.
    complexity: "pd.DataFrame | None" = None

    @cached_property
    def results(self) -> "pd.DataFrame":
        """Every row of the run directory (``results.parquet``), read when first asked for: a
        run of millions of rows is exported without ever being one table in memory."""
        return self.run_dir.read_results()


def run_benchmark(
    plan: RunPlan,
    out: str | Path | RunDir,
    jobs: int | None = None,
    retry_errors: bool = False,
    cache_dir: str | Path | None = None,
    metadata: dict[str, Any] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_rows: Callable[[Sequence[dict[str, Any]]], None] | None = None,
    backend: "execution.Backend | None" = None,
    row_timeout: float | None = execution.DEFAULT_ROW_TIMEOUT,
    max_memory: int | None = None,
) -> BenchmarkResult:
    """Run ``plan`` into the run directory ``out`` and export its tables.

    ``jobs`` (worker processes on this machine) defaults to
    :func:`bench.core.execution.default_jobs` for the plan's device; ``backend`` runs the tasks
    elsewhere instead (e.g. :class:`bench.core.cluster.DaskBackend`, which has its own
    ``row_timeout``). ``row_timeout``: seconds a row of a local run may take before it is an
    error row (None: no limit). ``max_memory``: bytes the local tasks in flight may need together
    by their estimates (default: the memory available; ``bench/core/memory.py``). ``cache_dir`` holds the
    reference features of distribution metrics (default: the download cache); ``metadata`` adds
    facts to this invocation's record; ``on_start(total, pending)`` and ``on_rows(rows)`` report
    progress.
    """
    from bench.core.storage_faults import storage_errors

    run_dir = out if isinstance(out, RunDir) else RunDir(out)
    if backend is None:
        jobs = jobs or execution.default_jobs(plan.device)
        backend = execution.local_backend(jobs, row_timeout, max_memory)
    with storage_errors(run_dir.path):
        return _run(plan, run_dir, jobs, retry_errors, cache_dir, metadata, on_start, on_rows, backend)


def _run(plan: RunPlan, run_dir: RunDir, jobs: int | None, retry_errors: bool, cache_dir: Any, metadata: dict[str, Any] | None,
         on_start: Any, on_rows: Any, backend: "execution.Backend") -> BenchmarkResult:
    from bench import datasets
    from bench.core import distribution

    run_dir.create()
    codecs, metrics = plan.codecs, plan.metrics
    libraries = [codec.library for codec in codecs.values()] + [metric.library for metric in metrics if metric.library]
    record = run_metadata(libraries)
    record.update(
        dataset=plan.images[0].dataset if plan.images else None,
        image_count=len(plan.images),
        codecs={name: {"version": codec.version(), "settings": [str(s) for s in plan.settings.get(name, codec.settings)]}
                for name, codec in codecs.items()},
        metrics=[metric.name for metric in metrics],
        target_bpp=list(plan.target_bpps),
        jobs=jobs,
        device=plan.device,
        # Where each image was read from: `bench merge` recomputes FID/KID of merged shards from them.
        images=[[image.dataset, image.name, str(image.path)] for image in plan.images],
    )
    record.update(metadata or {})
    metric_columns = run_dir.write_metric_columns(column for metric in metrics for column in metric.columns)
    table = None
    with run_dir.open_store() as store:
        invocation = store.record_invocation(record)
        try:
            execution.execute(plan, store, run_dir, backend, retry_errors, on_rows, on_start)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM (the workers are gone): export what is stored, then stop
            run_dir.write_results(store, metric_columns)
            raise
        complexity = _measure_complexity(plan, run_dir, backend.row_timeout)
        record["finished"] = now()
        store.update_invocation(invocation, record)
        row_count = run_dir.write_results(store, metric_columns)
        if distribution.distribution_metrics(metrics):
            table = distribution.distribution_table(store, plan.images, metrics, Path(cache_dir or datasets.default_cache_dir()))
            run_dir.write_distribution(table)
        run_dir.write_metadata(store.invocations())
    return BenchmarkResult(run_dir, row_count, table, metric_columns, complexity)


def _measure_complexity(plan: RunPlan, run_dir: RunDir, row_timeout: float | None) -> Any:
    """The learned codecs' complexity figures (``bench/codecs/complexity.py``) on the run's first readable image,
    for the operating points ``complexity.csv`` lacks; here, after the timed work, once per point."""
    from bench.core.complexity import complexity_rows

    existing = run_dir.read_complexity()
    done = set() if existing is None else set(zip(existing["codec"], existing["point"].astype(str)))
    points = {name: plan.points(name) for name in plan.codecs}
    device = plan.device if plan.device != "auto" else "cpu"
    return run_dir.write_complexity(complexity_rows(plan.codecs, points, [image.path for image in plan.images], device, done,
                                                   row_timeout))
