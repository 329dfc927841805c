"""Small real runs for the report tests, made by the project's own runner (real encodes, real
decodes, PSNR and MS-SSIM).

* ``small_run``: 2 Kodak images x JPEG and WebP x 3 settings, with reconstructions saved. The
  first image is registered under a hostile name, exactly as a data set could name it, so that
  the report's escaping is tested on what the runner writes.
* ``rate_controlled_run``: 2 Kodak images x JPEG and JPEG 2000 at target bpps, two of which
  are below both codecs' lowest rates, so that they clamp to the same setting.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.codecs.jpeg import JPEG
from bench.codecs.jpeg2000 import JPEG2000
from bench.codecs.webp import WebP
from bench.core.benchmark import run_benchmark
from bench.metrics.registry import select_metrics
from bench.core.plan import ImageSource, RunPlan

HOSTILE_NAME = "<script>alert(1)</script>.png"
SETTINGS = {"jpeg": [5, 20, 60], "webp": [5, 30, 70]}
#: 0.01 and 0.02 bpp are below JPEG quality 1 and JPEG 2000 ratio 1000 on every Kodak image.
TARGET_BPPS = (0.01, 0.02, 0.3, 0.8)


def _run(path: Path, plan: RunPlan) -> None:
    """What ``bench run`` does with a plan."""
    run_benchmark(plan, path, jobs=1, metadata={"command_line": f"bench run --codecs {','.join(plan.codecs)}"})


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
        images=images, codecs={"jpeg": JPEG(), "webp": WebP()}, metrics=list(select_metrics("psnr,ms_ssim").chosen.values()),
        settings=SETTINGS, save_reconstructions=True,
    )
    _run(run_dir, plan)
    return run_dir, {image.name: image.path for image in images}


@pytest.fixture(scope="session")
def rate_controlled_run(tmp_path_factory: pytest.TempPathFactory, kodak_dir: Path) -> Path:
    """The directory of a real 16-row ``--target-bpp`` run."""
    run_dir = tmp_path_factory.mktemp("kodak-target-bpp")
    images = [ImageSource("kodak", path.name, path) for path in sorted(kodak_dir.glob("*.png"))[:2]]
    plan = RunPlan(
        images=images, codecs={"jpeg": JPEG(), "jpeg2000": JPEG2000()}, metrics=list(select_metrics("psnr,ms_ssim").chosen.values()),
        target_bpps=TARGET_BPPS,
    )
    _run(run_dir, plan)
    return run_dir
