"""Distribution metrics (FID, KID) per (dataset, codec, operating point), from stored features.

The runner stores each reconstruction's features with its row (``ResultStore.features``).
This module adds the reference side and the per-group values:

* Reference features are cached on disk per image *content*:
  ``<cache dir>/features/<hash of the feature key>/<sha256 of the image file>.npy``. The
  feature key names the extractor and the sha256 of its weights file, so a different
  weights file is a different cache; a renamed or re-used image file is not recomputed.
* Each group's values are cached in the run's ``results.sqlite``, keyed by a hash of the
  metric, its feature key and the exact feature arrays that enter it, so a rerun computes
  nothing unless a row changed.

Only images of the current run's image list enter a group, and both sets always hold the
same images: the reference set is restricted to the images whose reconstruction is ok.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from bench.datasets import sha256_of
from bench.imageio import read_image
from bench.metrics.base import DistributionMetric, Metric
from bench.core.store import ResultStore

#: Below this many patches per set, FID's 2048 x 2048 covariance is rank-deficient and biased.
MIN_PATCHES_FOR_FID = 2048
SMALL_SAMPLE_NOTE = f"n_patches < {MIN_PATCHES_FOR_FID}: FID is biased (rank-deficient covariance); prefer KID"
#: Part of every cached group value's key: bump it when a metric's compute() changes, so that
#: runs made before compute the group values again (2: kid_std over half-size subsets).
_COMPUTE_VERSION = 2


def distribution_metrics(metrics: Sequence[Metric]) -> list[DistributionMetric]:
    """The metrics of sets among ``metrics``: those whose rows keep features beside them."""
    return [metric for metric in metrics if metric.feature_keys()]


def reference_features(metric: DistributionMetric, path: Path, cache_dir: Path) -> np.ndarray:
    """``metric.features`` of the image file at ``path``, from or into the on-disk cache."""
    feature_dir = Path(cache_dir) / "features" / hashlib.sha256(metric.feature_key().encode()).hexdigest()[:16]
    cached = feature_dir / f"{sha256_of(path)}.npy"
    if cached.is_file():
        return np.load(cached)
    features = metric.features(read_image(path))
    feature_dir.mkdir(parents=True, exist_ok=True)
    (feature_dir / "feature_key.txt").write_text(metric.feature_key() + "\n")
    # Write then rename, so that an interrupted run never leaves a truncated cache file.
    handle, temporary = tempfile.mkstemp(dir=feature_dir, suffix=".npy.tmp")
    with os.fdopen(handle, "wb") as stream:
        np.save(stream, features, allow_pickle=False)
    os.replace(temporary, cached)
    return features


def _digest(metric: DistributionMetric, arrays: Sequence[np.ndarray]) -> str:
    digest = hashlib.sha256(f"{_COMPUTE_VERSION}\n{metric.name}\n{metric.feature_key()}\n".encode())
    for array in arrays:
        digest.update(repr(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _cached_compute(
    store: ResultStore, metric: DistributionMetric, reference: list[np.ndarray], reconstruction: list[np.ndarray]
) -> dict[str, float]:
    digest = _digest(metric, [*reference, *reconstruction])
    cached = store.cached_result(digest)
    if cached is not None:
        return cached
    # A group whose rows all lack features (e.g. rows of an older run) gets the metric's NaNs.
    pooled = [np.concatenate(arrays) if arrays else np.empty((0, 0), np.float32) for arrays in (reference, reconstruction)]
    result = metric.compute(*pooled)
    store.cache_result(digest, result)
    return result


def distribution_table(
    store: ResultStore, images: Sequence[Any], metrics: Sequence[Metric], cache_dir: Path
) -> pd.DataFrame:
    """One row per (dataset, codec, operating point) of the store's ok rows over ``images``.

    ``images`` are the run's image sources (``dataset``, ``name``, ``path``). Columns:
    ``dataset, codec, point, mean_bpp``, each distribution metric's columns,
    ``n_patches``, ``n_images`` and ``fid_note`` (empty, or :data:`SMALL_SAMPLE_NOTE`).
    """
    wanted = distribution_metrics(metrics)
    paths = {(image.dataset, image.name): image.path for image in images}
    stored = {key: store.features(key) for key in {metric.feature_key() for metric in wanted}}
    rows = [row for row in store.rows() if row["status"] == "ok" and (row["dataset"], row["image"]) in paths]
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda row: row["image"]):
        groups.setdefault((row["dataset"], row["codec"], row["point"]), []).append(row)

    records = []
    for (dataset, codec, point), group in groups.items():
        record: dict[str, Any] = {
            "dataset": dataset,
            "codec": codec,
            "point": point,
            "mean_bpp": float(np.mean([row["bpp"] for row in group])),
        }
        for metric in wanted:
            features = stored[metric.feature_key()]
            keys = [(dataset, row["image"], codec, point) for row in group]
            keys = [key for key in keys if key in features]
            reconstruction = [features[key] for key in keys]
            reference = [reference_features(metric, paths[(dataset, key[1])], cache_dir) for key in keys]
            record.update(_cached_compute(store, metric, reference, reconstruction))
            record.update(n_patches=sum(len(array) for array in reconstruction), n_images=len(keys))
        record["fid_note"] = SMALL_SAMPLE_NOTE if record["n_patches"] < MIN_PATCHES_FOR_FID else ""
        records.append(record)
    columns = ["dataset", "codec", "point", "mean_bpp", *[c for m in wanted for c in m.column_names()]]
    table = pd.DataFrame(records, columns=[*columns, "n_patches", "n_images", "fid_note"])
    return table.sort_values(["dataset", "codec", "mean_bpp"], ignore_index=True)
