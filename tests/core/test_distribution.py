"""Distribution metrics through the runner and store, with a tiny stand-in feature extractor."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.core.execution import execute
from bench.core.plan import ImageSource, RunPlan
from bench.codecs.jpeg import JPEG
from bench.core.distribution import (
    MIN_PATCHES_FOR_FID,
    SMALL_SAMPLE_NOTE,
    distribution_table,
)
from bench.commands.tables import format_distribution, small_sample_warning
from bench.metrics.base import PER_SET, Column, DistributionMetric
from bench.metrics.psnr import PSNR
from bench.core.store import ResultStore


@dataclass(frozen=True)
class BlockOptions:
    weights: str = "v1"


class BlockColours(DistributionMetric):
    """Mean colour of each 16 x 16 block; counts its calls (jobs run in-process here)."""

    name = "gap"
    columns = (Column("gap", "colour gap", higher_is_better=False, per=PER_SET),)
    Options = BlockOptions
    calls = {"features": 0, "compute": 0}

    def feature_key(self) -> str:
        return f"block-colours/{self.options.weights}"

    def features(self, image: np.ndarray) -> np.ndarray:
        BlockColours.calls["features"] += 1
        height, width = image.shape[0] // 16, image.shape[1] // 16
        blocks = image[: height * 16, : width * 16].reshape(height, 16, width, 16, 3).astype(np.float32)
        return blocks.mean(axis=(1, 3)).reshape(-1, 3)

    def compute(self, reference_features: np.ndarray, reconstruction_features: np.ndarray) -> dict[str, float]:
        BlockColours.calls["compute"] += 1
        return {"gap": float(np.abs(reference_features.mean(0) - reconstruction_features.mean(0)).sum())}


@pytest.fixture
def images(tmp_path: Path) -> list[ImageSource]:
    rng = np.random.default_rng(0)
    sources = []
    for index in range(2):
        path = tmp_path / "data" / f"img{index}.png"
        path.parent.mkdir(exist_ok=True)
        pixels = np.kron(rng.integers(0, 256, size=(4, 6, 3)), np.ones((16, 16, 1))).astype(np.uint8)
        Image.fromarray(pixels).save(path)
        sources.append(ImageSource("toy", path.name, path))
    return sources


def run(images, tmp_path, weights="v1") -> tuple[ResultStore, list, int]:
    metrics = [PSNR(), BlockColours(BlockOptions(weights))]
    plan = RunPlan(images=images, codecs={"jpeg": JPEG()}, metrics=metrics, settings={"jpeg": [5, 90]})
    store = ResultStore(tmp_path / "run" / "results.sqlite")
    return store, metrics, execute(plan, store)


def test_features_are_stored_with_rows_and_pooled_per_setting(images, tmp_path):
    BlockColours.calls.update(features=0, compute=0)
    store, metrics, ran = run(images, tmp_path)
    assert ran == 4
    stored = store.features("block-colours/v1")
    assert sorted(stored) == [("toy", f"img{i}.png", "jpeg", q) for i in (0, 1) for q in ("5", "90")]
    assert all(array.shape == (24, 3) for array in stored.values())

    table = distribution_table(store, images, metrics, tmp_path / "cache")
    assert table[["dataset", "codec", "point", "n_patches", "n_images"]].values.tolist() == [
        ["toy", "jpeg", "5", 48, 2],
        ["toy", "jpeg", "90", 48, 2],
    ]
    reference = np.concatenate([BlockColours().features(np.asarray(Image.open(image.path))) for image in images])
    for point in ("5", "90"):
        reconstruction = np.concatenate([stored[("toy", f"img{i}.png", "jpeg", point)] for i in (0, 1)])
        expected = BlockColours().compute(reference, reconstruction)["gap"]
        assert table.loc[table["point"] == point, "gap"].item() == pytest.approx(expected)
    assert table["gap"].iloc[0] > table["gap"].iloc[1] > 0
    assert table["mean_bpp"].iloc[1] == pytest.approx(np.mean([r["bpp"] for r in store.rows() if r["setting"] == 90]))
    assert all("_features" not in row for row in store.rows())
    assert set(table["fid_note"]) == {SMALL_SAMPLE_NOTE}


def test_a_rerun_computes_nothing(images, tmp_path):
    store, metrics, _ = run(images, tmp_path)
    distribution_table(store, images, metrics, tmp_path / "cache")
    store.close()
    BlockColours.calls.update(features=0, compute=0)
    store, metrics, ran = run(images, tmp_path)
    first = distribution_table(store, images, metrics, tmp_path / "cache")
    assert ran == 0 and BlockColours.calls == {"features": 0, "compute": 0}
    assert len(first) == 2


def test_other_weights_invalidate_stored_and_cached_features(images, tmp_path):
    store, metrics, _ = run(images, tmp_path)
    distribution_table(store, images, metrics, tmp_path / "cache")
    store.close()
    BlockColours.calls.update(features=0, compute=0)
    store, metrics, ran = run(images, tmp_path, weights="v2")
    distribution_table(store, images, metrics, tmp_path / "cache")
    # 4 jobs again (features of each reconstruction), 2 references, 2 groups.
    assert ran == 4 and BlockColours.calls == {"features": 6, "compute": 2}


def test_small_sample_warning_points_at_kid():
    import pandas as pd

    small = pd.DataFrame({"n_patches": [192, 4000]})
    assert small_sample_warning(small) == (
        f"bench: FID here uses as few as 192 patches per set (< {MIN_PATCHES_FOR_FID}): its covariance is "
        "rank-deficient and the value biased; compare codecs by KID (kid_mean, kid_std) instead"
    )
    assert small_sample_warning(pd.DataFrame({"n_patches": [2048]})) is None


def test_a_run_without_ok_rows_prints_one_line_not_an_empty_frame(images, tmp_path):
    store, metrics, _ = run(images, tmp_path)
    table = distribution_table(store, [], metrics, tmp_path / "cache")
    assert table.empty
    assert format_distribution(table) == "bench: no FID/KID group: no row of this run's images has status ok"


def test_format_distribution_leaves_out_the_note_column(images, tmp_path):
    store, metrics, _ = run(images, tmp_path)
    lines = format_distribution(distribution_table(store, images, metrics, tmp_path / "cache")).splitlines()
    assert lines[0].split() == ["dataset", "codec", "point", "mean_bpp", "gap", "n_patches", "n_images"]
    assert [line.split()[:3] for line in lines[1:]] == [["toy", "jpeg", "5"], ["toy", "jpeg", "90"]]
