"""The wheel: only the ``bench`` package at the top level, with the catalogue, published points and configs."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_bench_and_its_data_only(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO_ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("codec_bench-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        catalogue = archive.read("bench/data/datasets.yaml")
        published = archive.read("bench/data/published/hific/data.csv")
    top_level = {name.split("/")[0] for name in names}
    metadata = {folder for folder in top_level if folder.endswith(".dist-info")}
    assert top_level - metadata == {"bench"} and len(metadata) == 1
    # Copies of the repository's files, not links.
    assert catalogue == (REPO_ROOT / "datasets.yaml").read_bytes() and "kodak" in yaml.safe_load(catalogue)
    assert published == (REPO_ROOT / "baselines" / "published" / "hific" / "data.csv").read_bytes()
    configs = {Path(name).name for name in names if name.startswith("bench/data/configs/")}
    assert configs == {path.name for path in (REPO_ROOT / "configs").glob("*.yaml")}
    assert "bench/report/templates/report.html.j2" in names
    # The rating study's page and report section.
    assert {"bench/study/static/study.html", "bench/study/static/study.js", "bench/study/static/study.css",
            "bench/study/templates/sections/human_preference.html.j2"} <= set(names)
    assert not any(name.startswith(("benchmarks/", "tests/", "baselines/")) for name in names)
