"""The plan of a run: images x codecs x operating points, as jobs grouped into tasks, and which of
them still need work in a run folder (resuming)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from bench.codecs.base import Codec, Setting
from bench.core.points import OperatingPoint
from bench.core.rows import Key

if TYPE_CHECKING:
    from bench.core.rundir import RunDir
    from bench.core.store import ResultStore
    from bench.metrics.base import Metric

#: Jobs of one image and codec handed to a worker together (the reference is read once for them).
JOBS_PER_TASK = 4
#: Images whose stored rows :func:`iter_pending_jobs` reads at a time (its memory holds one chunk).
IMAGES_PER_CHUNK = 500


@dataclass(frozen=True)
class ImageSource:
    dataset: str
    name: str
    path: Path


@dataclass(frozen=True)
class Job:
    """One encode/decode/measure of one image with one codec at one operating point."""

    image: ImageSource
    codec: str
    point: OperatingPoint

    @property
    def key(self) -> Key:
        return (self.image.dataset, self.image.name, self.codec, self.point.label)


@dataclass
class RunPlan:
    images: Sequence[ImageSource]
    codecs: dict[str, Codec]
    metrics: Sequence["Metric"]
    settings: dict[str, list[Setting]] = field(default_factory=dict)
    target_bpps: Sequence[float] = ()
    #: Keep each row's reconstruction as PNG in the run folder (``--save-recon``).
    save_reconstructions: bool = False
    #: Keep each row's bitstream in the run folder (``--save-bitstreams``).
    save_bitstreams: bool = False
    #: Decode each bitstream again with the codec's reference decoder (``--verify``, ``bench/core/conformance.py``).
    verify: bool = False
    #: Torch device of learned codecs and network metrics (resolved: ``cpu``, ``cuda``, ``cuda:1``).
    device: str = "cpu"
    #: ``(index, count)``: only the jobs of shard ``index`` of ``count`` (see :func:`shard_of`).
    shard: tuple[int, int] | None = None

    def points(self, codec: str) -> list[OperatingPoint]:
        """The operating points of ``codec`` in this plan: its settings, or the target bpps."""
        if self.target_bpps:
            return [OperatingPoint.at_target(target) for target in self.target_bpps]
        return [OperatingPoint(setting) for setting in self.settings.get(codec, self.codecs[codec].settings)]

    def use_device(self, device: str) -> None:
        """Put every codec and metric of the plan on ``device``."""
        for part in [*self.codecs.values(), *self.metrics]:
            part.use_device(device)

    def jobs(self) -> list[Job]:
        """All jobs, grouped by image so that consecutive jobs share the reference."""
        return list(self.iter_jobs())

    def iter_jobs(self, images: Iterable[ImageSource] | None = None) -> Iterator[Job]:
        """The jobs of ``images`` (default: all) in the order of :meth:`jobs`, one at a time."""
        points = {name: self.points(name) for name in self.codecs}
        for image in self.images if images is None else images:
            for name in self.codecs:
                for point in points[name]:
                    job = Job(image, name, point)
                    if self.shard is None or shard_of(job.key, self.shard[1]) == self.shard[0]:
                        yield job

    def job_count(self) -> int:
        """``len(self.jobs())`` without making the list."""
        if self.shard is None:
            return len(self.images) * sum(len(self.points(name)) for name in self.codecs)
        return sum(1 for _ in self.iter_jobs())


def shard_of(key: tuple[str, ...], count: int) -> int:
    """The shard (0 .. count - 1) of a job key: a stable hash, the same on every machine and run."""
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def make_tasks(jobs: Iterable[Job], jobs_per_task: int = JOBS_PER_TASK) -> Iterator[list[Job]]:
    """Group consecutive jobs of the same image and codec, at most ``jobs_per_task`` (operating points) per task, as they come."""
    task: list[Job] = []
    for job in jobs:
        if task and (len(task) >= jobs_per_task or (task[0].image, task[0].codec) != (job.image, job.codec)):
            yield task
            task = []
        task.append(job)
    if task:
        yield task


def pending_jobs(plan: RunPlan, store: "ResultStore", run_dir: "RunDir | None" = None, retry_errors: bool = False) -> list[Job]:
    """The jobs of ``plan`` that still need work, as a list (:func:`iter_pending_jobs`)."""
    return list(iter_pending_jobs(plan, store, run_dir, retry_errors))


def iter_pending_jobs(
    plan: RunPlan, store: "ResultStore", run_dir: "RunDir | None" = None, retry_errors: bool = False,
) -> Iterator[Job]:
    """The jobs of ``plan`` that still need work, in plan order, one chunk of images at a time.

    A job is done when its row exists (error rows too, unless ``retry_errors``), and, for an ok
    row, when it holds every requested metric under the metric's current
    :meth:`~bench.metrics.base.Metric.signature` (the features of set metrics included), the
    reference check under ``plan.verify``, and its files in ``run_dir`` when the plan keeps them.
    The store is read for :data:`IMAGES_PER_CHUNK` images at a time, so memory does not grow with the run.
    """
    feature_keys = sorted({key for metric in plan.metrics for key in metric.feature_keys()})
    for dataset, images in _image_chunks(plan.images):
        names = [image.name for image in images]
        with_features = [store.keys_with_features(key, dataset, names) for key in feature_keys]
        done = set()
        for status, record in store.records_of(dataset, names):
            if status != "ok":
                if not retry_errors:
                    done.add(record.key)
            elif all(record.key in keys for keys in with_features) and not _needs_work(record.row, record.signatures, plan, run_dir):
                done.add(record.key)
        yield from (job for job in plan.iter_jobs(images) if job.key not in done)


def _image_chunks(images: Sequence[ImageSource]) -> Iterator[tuple[str, list[ImageSource]]]:
    """Consecutive images of one dataset, at most :data:`IMAGES_PER_CHUNK` at a time."""
    chunk: list[ImageSource] = []
    for image in images:
        if chunk and (len(chunk) >= IMAGES_PER_CHUNK or chunk[0].dataset != image.dataset):
            yield chunk[0].dataset, chunk
            chunk = []
        chunk.append(image)
    if chunk:
        yield chunk[0].dataset, chunk


def _needs_work(row: dict, signatures: dict[str, str], plan: RunPlan, run_dir: "RunDir | None") -> bool:
    for metric in plan.metrics:
        if signatures.get(metric.name) != metric.signature() or any(column not in row for column in metric.row_columns()):
            return True
    if plan.verify and not isinstance(row.get("reference_check"), str):
        return True
    if plan.save_bitstreams and (run_dir is None or not run_dir.has_bitstream(row)):
        return True
    return plan.save_reconstructions and (run_dir is None or not run_dir.has_reconstruction(row))
