"""Measuring one row: image file -> codec.encode -> bytes -> codec.decode -> image -> checks and
metrics -> a :class:`~bench.core.rows.Measured` record. The same function runs in this process, in
a local worker process and on a Dask worker; it knows no codec and no metric by name.

Only the encode and the decode are timed: the codec's :meth:`~bench.codecs.base.Codec.prepare`
(loading a model, warming it up) runs before, and its :meth:`~bench.codecs.base.Codec.analyse`
(extra columns) after. Warnings of the libraries used stay out of the terminal: those of reading
the image go into ``input_note`` (of every row of that image), the others into ``warnings``.
A failure becomes a row with ``status=error`` and a one-line ``error``; the run goes on.

Each worker keeps the last few reference images and, per image and metric, what
:meth:`~bench.metrics.base.Metric.prepare_reference` made of it, so an image's reference side is
computed once for all its rows (:class:`PreparedReferences`). The set metrics' features of a
task's reconstructions (one image and codec, several points) are computed together, in one call
of :meth:`~bench.metrics.base.DistributionMetric.features_of_many`, after the task's rows.
"""
from __future__ import annotations

import functools
import hashlib
import io
import socket
import time
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from bench.codecs.base import Codec, Setting, bits_per_pixel
from bench.core.conformance import verify_row
from bench.core.plan import Job, RunPlan
from bench.core.plausibility import image_checks
from bench.core.rows import Measured
from bench.core.rundir import RunDir
from bench.errors import BenchError, one_line
from bench.imageio import ImageReadError, read_image_with_notes, warning_notes
from bench.metrics.base import Metric

#: Reference images kept per worker; tasks arrive grouped by image.
IMAGE_CACHE_SIZE = 4
#: Reference images whose prepared sides (every metric's) a worker keeps; fewer than
#: :data:`IMAGE_CACHE_SIZE`, as a prepared side can be several times the image (docs/metrics.md).
PREPARED_CACHE_SIZE = 2
#: The machine that measures a row (recorded in it: rows of a cluster run come from many).
HOST = socket.gethostname()


@functools.lru_cache(maxsize=IMAGE_CACHE_SIZE)
def _reference(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """The reference image (read-only) and the notes of reading it."""
    image, notes = read_image_with_notes(path)
    image.setflags(write=False)
    return image, notes


@functools.lru_cache(maxsize=IMAGE_CACHE_SIZE)
def _reference_detail(path: Path) -> float:
    """The reference's standard deviation, which the nearly-flat check compares every row of it with."""
    return float(_reference(path)[0].std())


class PreparedReferences:
    """Each metric's :meth:`~bench.metrics.base.Metric.prepare_reference` of the last
    ``size`` reference images, the least recently used image dropped first."""

    def __init__(self, size: int = PREPARED_CACHE_SIZE) -> None:
        self.size = size
        # image key -> id(metric) -> (metric, prepared); the metric is kept so that its id is never reused.
        self._images: OrderedDict[Any, dict[int, tuple[Metric, Any]]] = OrderedDict()

    def get(self, key: Any, reference: np.ndarray, metric: Metric) -> Any:
        """What ``metric`` prepared of ``reference`` (the image ``key`` names), prepared now if not kept."""
        entries = self._images.get(key)
        if entries is None:
            entries = self._images[key] = {}
            while len(self._images) > self.size:
                self._images.popitem(last=False)
        else:
            self._images.move_to_end(key)
        kept = entries.get(id(metric))
        if kept is None or kept[0] is not metric:
            kept = entries[id(metric)] = (metric, metric.prepare_reference(reference))
        return kept[1]


#: This process's prepared references.
PREPARED = PreparedReferences()


def base_row(job: Job, codec: Codec) -> dict[str, Any]:
    return {
        "dataset": job.image.dataset,
        "image": job.image.name,
        "codec": job.codec,
        "point": job.point.label,
        "setting": job.point.setting,
        "codec_version": codec.version(),
        "host": HOST,
        "status": "ok",
        "error": "",
        **({"target_bpp": job.point.target_bpp} if job.point.target_bpp is not None else {}),
    }


def error_rows(task: Sequence[Job], codecs: dict[str, Codec], reason: str) -> list[Measured]:
    """Error rows for the jobs of a task that produced no rows of its own (its worker died), with ``reason``."""
    records = []
    for job in task:
        row = base_row(job, codecs[job.codec])
        row.update(status="error", error=reason)
        records.append(Measured(row))
    return records


def _encode(job: Job, codec: Codec, reference: np.ndarray) -> tuple[Setting, Any, float, int]:
    """(setting used, encode result, seconds per encode, number of encodes)."""
    if job.point.target_bpp is None:
        codec.prepare(job.point.setting)
        started = time.perf_counter()
        encoded = codec.encode_with_context(reference, job.point.setting)
        return job.point.setting, encoded, time.perf_counter() - started, 1
    from bench.core.ratecontrol import encode_at_target

    started = time.perf_counter()
    setting, encoded, n_encodes = encode_at_target(codec, reference, job.point.target_bpp)
    return setting, encoded, (time.perf_counter() - started) / n_encodes, n_encodes


#: Rows whose set-metric features are still to compute, with their reconstructions.
Deferred = list[tuple[Measured, np.ndarray]]


def measure_job(job: Job, codec: Codec, metrics: Sequence[Metric], plan: RunPlan, deferred: Deferred | None = None) -> Measured:
    """Encode, decode and measure one job as the plan asks (checks, files); never raises.

    With a ``deferred`` list, the set metrics' features are left out and the row (if ok) and its
    reconstruction appended to it, for :func:`add_features`.
    """
    measured = Measured(base_row(job, codec))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _measure(job, codec, metrics, plan, measured, deferred)
        except (ImageReadError, BenchError) as exc:  # already one line that says what is wrong
            measured.row.update(status="error", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - one failing job must not stop the run
            measured.row.update(status="error", error=one_line(exc))
    notes = warning_notes(caught)
    if notes:
        measured.row["warnings"] = "; ".join(notes)
    return measured


def _measure(job: Job, codec: Codec, metrics: Sequence[Metric], plan: RunPlan, measured: Measured, deferred: Deferred | None) -> None:
    row = measured.row
    reference, input_notes = _reference(job.image.path)
    if input_notes:
        row["input_note"] = "; ".join(input_notes)
    height, width = reference.shape[:2]
    row.update(width=width, height=height)
    setting, encoded, encode_seconds, n_encodes = _encode(job, codec, reference)
    codec.prepare(setting)
    started = time.perf_counter()
    reconstruction = np.asarray(codec.decode(encoded.bitstream))
    decode_seconds = time.perf_counter() - started
    if reconstruction.shape != reference.shape or reconstruction.dtype != np.uint8:
        raise ValueError(f"decoder returned {reconstruction.dtype} {reconstruction.shape}, expected uint8 {reference.shape}")
    row.update(
        setting=setting,
        bytes=len(encoded.bitstream),
        bpp=bits_per_pixel(encoded.bitstream, reference),
        bitstream_sha256=hashlib.sha256(encoded.bitstream).hexdigest()[:16],
        encode_seconds=encode_seconds,
        decode_seconds=decode_seconds,
        **codec.analyse(reference, setting, encoded),
    )
    if job.point.target_bpp is not None:
        row["n_encodes"] = n_encodes
    row.update(image_checks(reference, reconstruction, row["bpp"], _reference_detail(job.image.path)))
    if plan.verify:
        row.update(verify_row(codec, encoded.bitstream, reconstruction))
    path = job.image.path
    measure_metrics(metrics, reference, reconstruction, measured, lambda metric: PREPARED.get(path, reference, metric),
                    features=deferred is None)
    if plan.save_reconstructions:
        relpath = RunDir.recon_relpath(job.image.dataset, job.codec, job.point.label, job.image.name)
        measured.files[relpath] = png_bytes(reconstruction)
        row["recon_path"] = relpath
    if plan.save_bitstreams:
        relpath = RunDir.bitstream_relpath(job.image.dataset, job.codec, job.point.label, job.image.name, codec.file_extension)
        measured.files[relpath] = encoded.bitstream
        row["bitstream_path"] = relpath
    if deferred is not None:
        deferred.append((measured, reconstruction))


def measure_metrics(
    metrics: Sequence[Metric],
    reference: np.ndarray,
    reconstruction: np.ndarray,
    measured: Measured,
    prepared: Callable[[Metric], Any] | None = None,
    features: bool = True,
) -> None:
    """Each metric's part of one row, with the signature it was measured under: a value metric's
    columns into the row, a set metric's features beside it (once per feature key: FID and KID
    share theirs; none with ``features=False``, see :func:`add_features`).

    ``prepared(metric)`` gives the metric's prepared reference (a cache's); None: prepared here.
    """
    for metric in metrics:
        keys = metric.feature_keys()
        if keys:
            for key in keys if features else ():
                if key not in measured.features:
                    measured.features[key] = metric.features(reconstruction)
        else:
            ready = prepared(metric) if prepared is not None else metric.prepare_reference(reference)
            measured.row.update(metric.measure_prepared(ready, reconstruction))
        measured.signatures[metric.name] = metric.signature()


def add_features(metrics: Sequence[Metric], deferred: Deferred) -> None:
    """The set metrics' features of the ``deferred`` rows, all rows in one
    :meth:`~bench.metrics.base.DistributionMetric.features_of_many` call per feature key; a row
    whose features fail alone (the batch failed, so each is tried by itself) becomes an error row."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _add_features(metrics, deferred)
    notes = warning_notes(caught)
    for measured, _ in deferred if notes else ():
        measured.row["warnings"] = "; ".join(filter(None, [measured.row.get("warnings", ""), *notes]))


def _add_features(metrics: Sequence[Metric], deferred: Deferred) -> None:
    done: set[str] = set()
    for metric in metrics:
        for key in metric.feature_keys():
            if key in done or not deferred:
                continue
            done.add(key)
            try:
                for (measured, _), values in zip(deferred, metric.features_of_many([image for _, image in deferred]), strict=True):
                    measured.features[key] = values
            except Exception:  # noqa: BLE001 - find the row that fails, as the unbatched path would
                for measured, image in deferred:
                    try:
                        measured.features[key] = metric.features(image)
                    except Exception as exc:  # noqa: BLE001 - one failing row must not stop the run
                        measured.row.update(status="error", error=one_line(exc))
                        measured.features.clear()
                deferred[:] = [(measured, image) for measured, image in deferred if measured.row["status"] == "ok"]


def png_bytes(image: np.ndarray) -> bytes:
    """An image as lossless PNG bytes (a reconstruction for the run folder)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def measure_task(jobs: Sequence[Job], plan: RunPlan) -> list[Measured]:
    """The rows of one task, with the plan's codecs and metrics (as this process holds them); the
    set metrics' features of its rows computed together (:func:`add_features`)."""
    deferred: Deferred = []
    records = [measure_job(job, plan.codecs[job.codec], plan.metrics, plan, deferred) for job in jobs]
    add_features(plan.metrics, deferred)
    return records
