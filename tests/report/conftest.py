"""A small real run for the report tests: 2 Kodak images x JPEG and WebP x 3 settings.

The run is made by the project's own runner (real encodes, real decodes, PSNR and MS-SSIM),
with reconstructions saved. The first image is registered under a hostile name, exactly as a
data set could name it, so that the report's escaping is tested on what the runner writes.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.codecs.jpeg import JPEG
from bench.codecs.webp import WebP
from bench.metadata import run_metadata
from bench.metrics.registry import create_metrics
from bench.runner import ImageSource, RunPlan, execute
from bench.store import ResultStore, export

HOSTILE_NAME = "<script>alert(1)</script>.png"
SETTINGS = {"jpeg": [5, 20, 60], "webp": [5, 30, 70]}


@pytest.fixture(scope="session")
def hostile_name() -> str:
    return HOSTILE_NAME


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory, kodak_dir: Path) -> tuple[Path, dict[str, Path]]:
    """(run directory, image name -> original file) of a real 12-row run."""
    run_dir = tmp_path_factory.mktemp("kodak-run")
    first, second = sorted(kodak_dir.glob("*.png"))[:2]
    images = [ImageSource("kodak", HOSTILE_NAME, first), ImageSource("kodak", second.name, second)]
    plan = RunPlan(
        images=images, codecs={"jpeg": JPEG(), "webp": WebP()}, metrics=create_metrics("psnr,ms_ssim"),
        settings=SETTINGS, recon_dir=run_dir / "recon",
    )
    metadata = run_metadata(["pillow", "pytorch-msssim"], argv=["bench", "run", "--codecs", "jpeg,webp"])
    with ResultStore(run_dir / "results.sqlite") as store:
        execute(plan, store, jobs=1)
        export(store, run_dir)
    metadata.update(dataset="kodak", image_count=2)
    (run_dir / "metadata.json").write_text(json.dumps(metadata))
    return run_dir, {image.name: image.path for image in images}
