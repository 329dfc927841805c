"""The metric contract's reference hook: a metric prepares its reference side once per image
(``prepare_reference``) and scores each reconstruction against it (``measure_prepared``), with
the values of ``measure``; the runner prepares each reference once per worker."""
from __future__ import annotations

import math

import numpy as np
import pytest

import bench
from bench.core.execution import InProcess
from bench.core.measure import PreparedReferences, add_features, measure_metrics
from bench.core.rows import Measured
from bench.metrics.base import Column, DistributionMetric, Metric
from bench.metrics.registry import select_metrics


def same_values(first: dict, second: dict) -> bool:
    """Equal dicts, NaN equal to NaN."""
    return first.keys() == second.keys() and all(
        a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
        for a, b in ((first[key], second[key]) for key in first))


@pytest.fixture(scope="module")
def pairs(kodim01_crop, jpeg):
    """A 256 x 384 reference and two JPEG reconstructions of it."""
    return kodim01_crop, [jpeg(kodim01_crop, 20), jpeg(kodim01_crop, 60)]


@pytest.fixture(scope="module")
def runnable(weights_dir):
    """Every registered metric that can run here."""
    from bench.metrics.inception import InceptionOptions
    from bench.metrics.lpips import LPIPSOptions

    chosen = select_metrics("all", [LPIPSOptions(weights_dir=weights_dir), InceptionOptions(weights_dir=weights_dir)]).chosen
    assert {"ssimulacra2", "lpips", "fid", "yuv_psnr", "niqe"} <= set(chosen)
    return chosen


def test_measure_prepared_gives_exactly_the_values_of_measure_for_every_metric(runnable, pairs):
    reference, reconstructions = pairs
    for name, metric in runnable.items():
        if isinstance(metric, DistributionMetric):
            continue
        # One preparation serves several reconstructions, in any order: it is not changed by use.
        prepared = metric.prepare_reference(reference)
        for reconstruction in reconstructions + reconstructions[:1]:
            assert same_values(metric.measure_prepared(prepared, reconstruction), metric.measure(reference, reconstruction)), name


def test_a_set_metric_gives_the_features_of_each_image_when_given_several(runnable, pairs):
    # The Inception sees the patches of several images in one batch; each patch's features stay
    # its own to float rounding (equal on the CPUs we measured; the tolerance covers kernels
    # that a library picks by batch size).
    reference, reconstructions = pairs
    fid = runnable["fid"]
    images = [reconstructions[0], reference, reconstructions[1]]
    together = fid.features_of_many(images)
    assert [len(features) for features in together] == [1, 1, 1]
    for features, image in zip(together, images):
        np.testing.assert_allclose(features, fid.features(image), rtol=1e-5, atol=1e-6)


class Mean(Metric):
    """A plug-in that knows nothing of the hook: only ``measure``."""

    name = "mean_difference"
    columns = (Column("mean_difference", "mean difference", higher_is_better=False),)

    def measure(self, reference, reconstruction):
        return {"mean_difference": float(np.mean(np.abs(reference.astype(float) - reconstruction)))}


class CountingMean(Mean):
    """The same values through the hook, counting its calls."""

    name = "counted_mean_difference"
    columns = (Column("counted_mean_difference", "mean difference", higher_is_better=False),)
    prepared = measured = 0

    def prepare_reference(self, reference):
        type(self).prepared += 1
        return reference.astype(float)

    def measure_prepared(self, prepared, reconstruction):
        type(self).measured += 1
        return {"counted_mean_difference": float(np.mean(np.abs(prepared - reconstruction)))}


def test_a_metric_that_does_not_override_the_hook_measures_as_before(pairs):
    reference, (reconstruction, _) = pairs
    measured = Measured(row={})
    measure_metrics([Mean()], reference, reconstruction, measured)
    assert measured.row == Mean().measure(reference, reconstruction)
    assert Mean().prepare_reference(reference) is reference


def test_the_runner_prepares_each_reference_once_per_metric_for_all_its_rows(tmp_path, kodak_dir):
    images = sorted(kodak_dir.glob("*.png"))[:2]
    CountingMean.prepared = CountingMean.measured = 0
    # In this process, so that the calls can be counted here.
    result = bench.run("jpeg,webp", images=images, metrics=[CountingMean(), Mean()], settings={"jpeg": [30, 70], "webp": [50]},
                       out=tmp_path / "run", backend=InProcess())
    assert len(result.results) == 6 and set(result.results["status"]) == {"ok"}
    assert (CountingMean.prepared, CountingMean.measured) == (2, 6)
    # The same metric without the hook gives the same column.
    assert result.results["counted_mean_difference"].tolist() == result.results["mean_difference"].tolist()


def test_the_prepared_references_keep_the_last_images_only(pairs):
    reference, _ = pairs
    metric, cache = CountingMean(), PreparedReferences(size=2)
    CountingMean.prepared = 0
    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get(key, reference, metric)
    # a, b, (a kept), c (drops b), (a kept), b again.
    assert CountingMean.prepared == 4


def test_a_failing_row_of_a_batch_of_features_becomes_an_error_row_alone(pairs):
    reference, reconstructions = pairs

    class Fragile(DistributionMetric):
        name = "fragile"

        def feature_key(self):
            return "fragile"

        def features(self, image):
            if image.shape[0] < 100:
                raise ValueError("too small")
            return np.ones((1, 2))

        def features_of_many(self, images):
            return [self.features(image) for image in images]

    rows = [Measured(row={"status": "ok"}) for _ in range(3)]
    images = [reconstructions[0], reference[:50], reconstructions[1]]
    add_features([Fragile()], list(zip(rows, images)))
    assert [row.row["status"] for row in rows] == ["ok", "error", "ok"]
    assert rows[1].row["error"] == "ValueError: too small" and not rows[1].features
    assert rows[0].features["fragile"].shape == (1, 2)
