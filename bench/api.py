"""One call for a whole run, from Python: :func:`run`. ``bench run`` maps its flags onto it.

    import bench
    result = bench.run(codecs="jpeg,webp", dataset="kodak", out="runs/mine")
    result.results                       # the tidy table (pandas), as in results.csv

Codecs and metrics are given by name (``"jpeg,webp"``, ``["psnr", "lpips"]``, ``"all"``) or as
objects (a :class:`~bench.codecs.base.Codec`, a :class:`~bench.metrics.base.Metric`, or a mapping
of names to codecs); images by dataset name, or as a folder, a glob, or a list of files. The call
checks everything a run needs before any work, as ``bench run`` does, and raises
:class:`~bench.errors.BenchError` with one line naming what is wrong; what it leaves out on the
way (a codec that cannot run here under ``"all"``, a file that is not an image) is in the
result's ``notes`` and ``not_read``. The run folder accumulates and resumes as with ``bench run``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from bench.constants import DEFAULT_ROW_TIMEOUT
from bench.errors import BenchError

if TYPE_CHECKING:
    from bench.codecs.base import Codec
    from bench.core.benchmark import BenchmarkResult
    from bench.core.execution import Backend
    from bench.core.plan import ImageSource, RunPlan
    from bench.core.rundir import RunDir
    from bench.datasets import SkippedFile
    from bench.metrics.base import Metric


@dataclass(frozen=True)
class Note:
    """Something left out on the way, and which argument it is about (``codecs``, ``metrics``, ``target_bpp``)."""

    about: str
    text: str


@dataclass
class RunResult:
    """A run's tables (see :class:`~bench.core.benchmark.BenchmarkResult`) and what was left out."""

    benchmark: "BenchmarkResult"
    #: One per thing left out on the way (codecs or metrics that cannot run here).
    notes: list[Note] = field(default_factory=list)
    #: Files named by ``images`` that were not read, with the reason.
    not_read: list["SkippedFile"] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:  # results, distribution, metric_columns, complexity, run_dir
        return getattr(self.benchmark, name)


def run(
    codecs: "str | Sequence[str | Codec] | Mapping[str, Codec]" = "all",
    *,
    dataset: str = "sample",
    images: "str | Path | Sequence[str | Path] | None" = None,
    out: "str | Path | None" = None,
    metrics: "str | Sequence[str | Metric]" = "psnr,ms_ssim",
    settings: "Mapping[str, Sequence[Any]] | None" = None,
    target_bpp: Sequence[float] = (),
    device: str = "auto",
    jobs: int | None = None,
    backend: "Backend | None" = None,
    row_timeout: float | None = DEFAULT_ROW_TIMEOUT,
    max_memory: int | None = None,
    save_reconstructions: bool = False,
    save_bitstreams: bool = False,
    verify: bool = False,
    limit: int | None = None,
    shard: tuple[int, int] | None = None,
    retry_errors: bool = False,
    data_dir: "str | Path | None" = None,
    cache_dir: "str | Path | None" = None,
    download: bool = True,
    codec_options: Iterable[Any] = (),
    metric_options: Iterable[Any] = (),
    metadata: dict[str, Any] | None = None,
    on_plan: "Callable[[RunPlan, RunDir, list[Note], list[SkippedFile]], None] | None" = None,
    on_start: Callable[[int, int], None] | None = None,
    on_rows: Callable[[Sequence[dict[str, Any]]], None] | None = None,
) -> RunResult:
    """Run ``codecs`` over the images into the run folder ``out`` (default ``runs/<dataset>``).

    ``settings`` overrides codecs' grids (values or their text, parsed by each codec);
    ``target_bpp`` replaces the grids by per-image rate control (codecs without a numeric quality
    knob are then left out, with a note). ``device``: ``auto``, ``cpu``, ``cuda``, ``cuda:1``.
    ``jobs``: worker processes here (default: one per core, one per GPU with CUDA); ``backend``
    runs the tasks elsewhere (a :class:`bench.core.cluster.DaskBackend`: the plan's networks then
    run on each worker's own device). ``row_timeout``: seconds a row may take before it becomes an
    error row and its worker process is replaced (None: no limit; a ``backend`` has its own).
    ``max_memory``: bytes the jobs in flight may need together by their estimated peak memory
    (default: the memory available; see docs/memory.md). ``codec_options`` / ``metric_options``
    are the typed options objects of codec and metric classes (each class's ``Options``; a class
    not given its own gets its defaults). ``on_plan(plan,
    run_dir, notes, not_read)`` is called once everything is checked, before any work;
    ``on_start(total, pending)`` and ``on_rows(rows)`` report progress.
    """
    from bench.core.benchmark import run_benchmark
    from bench.core.plan import RunPlan
    from bench.core.rundir import RunDir
    from bench.device import resolve_device

    notes: list[Note] = []
    chosen_device = device if backend is not None else resolve_device(device)
    selected = _codecs(codecs, list(codec_options), notes)
    if target_bpp:
        if any(target <= 0 for target in target_bpp):
            raise BenchError("target bpp: every target must be above 0")
        for name in [name for name, codec in selected.items() if codec.quality_range is None]:
            notes.append(Note("target_bpp", f"skipping codec {name}: it has no numeric quality knob to search"))
            del selected[name]
    if not selected:
        raise BenchError("no codec can run: see `bench codecs` for what each needs")
    chosen_metrics = _metrics(metrics, list(metric_options), notes)
    parsed_settings = _settings(settings or {}, selected)
    sources, not_read = resolve_images(dataset, images, data_dir, cache_dir, download, limit)
    run_dir = RunDir(out or Path("runs") / (sources[0].dataset if sources else dataset))
    run_dir.check_writable()
    plan = RunPlan(
        images=sources, codecs=selected, metrics=chosen_metrics, settings=parsed_settings, target_bpps=tuple(target_bpp),
        save_reconstructions=save_reconstructions, save_bitstreams=save_bitstreams, verify=verify,
        device="cpu" if backend is not None else chosen_device, shard=shard,
    )
    if on_plan is not None:
        on_plan(plan, run_dir, notes, not_read)
    record = {"not_read": [{"file": str(entry.path), "reason": entry.reason} for entry in not_read], **(metadata or {})}
    result = run_benchmark(plan, run_dir, jobs=jobs, retry_errors=retry_errors, cache_dir=cache_dir, metadata=record,
                           on_start=on_start, on_rows=on_rows, backend=backend,
                           row_timeout=row_timeout, max_memory=max_memory)
    return RunResult(result, notes, not_read)


def _codecs(codecs: Any, options: list[Any], notes: list[Note]) -> dict[str, "Codec"]:
    from bench.codecs.base import Codec
    from bench.codecs.registry import CODECS

    if isinstance(codecs, Mapping):
        return dict(codecs)
    return _choose(CODECS, codecs, Codec, options, notes, "cannot run here and are skipped (`bench codecs` says what each needs)")


def _metrics(metrics: Any, options: list[Any], notes: list[Note]) -> list["Metric"]:
    from bench.metrics.base import Metric
    from bench.metrics.registry import METRICS

    if not [part for part in _names(metrics) if not isinstance(part, str) or part.strip()]:
        raise BenchError("metrics: none named; give at least one, such as psnr,ms_ssim (`all`: every metric that can run here)")
    for metric in [part for part in _names(metrics) if isinstance(part, Metric)]:
        metric.check()
    return list(_choose(METRICS, metrics, Metric, options, notes, "not available here and left out").values())


def _names(given: Any) -> list[Any]:
    return given.split(",") if isinstance(given, str) else list(given)


def _choose(registry: Any, given: Any, part_type: type, options: list[Any], notes: list[Note], left_out: str) -> dict[str, Any]:
    """The parts ``given`` (a comma-separated string or a list of names and objects), by name: the
    names chosen by ``registry`` (what ``all`` leaves out becomes a note), the objects as given."""
    objects = {part.name: part for part in _names(given) if isinstance(part, part_type)}
    wanted = [part for part in _names(given) if not isinstance(part, part_type)]
    if not wanted:
        return objects
    selection = registry.select(wanted, options)
    if selection.unavailable:
        notes.append(Note(f"{registry.kind}s", f"{len(selection.unavailable)} {registry.kind}(s) {left_out}: "
                                              f"{grouped_reasons(selection.unavailable)}"))
    return {**selection.chosen, **objects}


def _settings(settings: Mapping[str, Sequence[Any]], codecs: Mapping[str, "Codec"]) -> dict[str, list[Any]]:
    parsed = {}
    for name, values in settings.items():
        if name not in codecs:
            raise BenchError(f"settings for codec {name!r}: it is not among the selected codecs ({', '.join(codecs)})")
        try:
            parsed[name] = [codecs[name].parse_setting(str(value).strip()) for value in values]
        except ValueError as exc:
            raise BenchError(f"settings for codec {name!r}: {exc}") from None
    return parsed


def resolve_images(
    dataset: str, images: "str | Path | Sequence[str | Path] | None", data_dir: Any, cache_dir: Any, download: bool,
    limit: int | None,
) -> tuple[list["ImageSource"], list["SkippedFile"]]:
    """The images of ``dataset``, or of ``images`` (a folder, a glob, or a list of files), and the
    files ``images`` names but does not read. Two images whose names share a stem are refused."""
    from bench import datasets
    from bench.core.plan import ImageSource

    skipped: list[SkippedFile] = []
    if images is not None:
        if isinstance(images, (str, Path)):
            paths, skipped = datasets.images_from_pattern(str(images))
            name = Path(images).name if Path(images).is_dir() else _folder_before_glob(Path(images))
        else:
            paths = [Path(path) for path in images]
            name = paths[0].parent.name if paths else "images"
        stems: dict[str, Path] = {}
        for path in paths:
            if path.stem in stems:
                raise BenchError(
                    f"images {images}: {stems[path.stem]} and {path} share the name {path.stem!r} (their reconstructions "
                    "and bitstreams would be one file); rename one, or give one folder at a time"
                )
            stems[path.stem] = path
        dataset_name = name or "images"
    else:
        paths = datasets.resolve(dataset, data_dir, cache_dir, download=download)
        dataset_name = dataset
    if limit is not None:
        paths = paths[:limit]
    return [ImageSource(dataset_name, path.name, path) for path in paths], skipped


def _folder_before_glob(pattern: Path) -> str:
    """``photos/**/*.png`` -> ``photos``: the last folder of a glob pattern before any wildcard."""
    plain: list[str] = []
    for part in pattern.parts[:-1]:
        if any(character in part for character in "*?["):
            break
        plain.append(part)
    return Path(*plain).name if plain else ""


def reason_gist(reason: str) -> str:
    """The gist of why a part cannot run: its reason up to the first ``: ``, `` (`` or ``;``."""
    import re

    return re.split(r": | \(|;", reason, maxsplit=1)[0].strip()


def grouped_reasons(reasons: dict[str, str]) -> str:
    """``{"a": "a: no weights (e.g. ...)", "b": "b: no weights ..."}`` -> ``"a, b (no weights)"``.

    The full reasons of many parts would fill a screen, and the listing commands give them.
    """
    groups: dict[str, list[str]] = {}
    for name, reason in reasons.items():
        groups.setdefault(reason_gist(reason.removeprefix(f"{name}: ")), []).append(name)
    return "; ".join(f"{', '.join(names)} ({gist})" for gist, names in groups.items())
