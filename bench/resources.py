"""Where the files that ship with codec-bench are: the dataset catalogue, published points, configs.

``bench/data`` holds them (in a source checkout, links to the repository's ``datasets.yaml``,
``baselines/published/`` and ``configs/``, which stay the files to edit; a wheel carries
copies). Trained checkpoints ship only with the repository: :func:`checkout_baselines_dir` is
``baselines/`` of a source checkout, and an installed package finds them through
``--baselines-dir`` / ``$BENCH_BASELINES_DIR``.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


def catalog_file() -> Path:
    """The dataset catalogue that ships with the package (``datasets.yaml``)."""
    return DATA_DIR / "datasets.yaml"


def published_dir() -> Path:
    """Published reference points, one folder per source (``baselines/published``)."""
    return DATA_DIR / "published"


def configs_dir() -> Path:
    """Training configs (``configs/``)."""
    return DATA_DIR / "configs"


def checkout_baselines_dir() -> Path:
    """``baselines/`` of the source checkout the package runs from (absent in an installed wheel)."""
    return PACKAGE_DIR.parent / "baselines"
