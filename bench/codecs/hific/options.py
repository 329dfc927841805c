"""The options of the HiFiC codecs: where their checkpoint families come from, and the device.

A light module (no torch), so that building the command line stays fast.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.constants import BASELINES_DIR_ENV
from bench.options import option


@dataclass(frozen=True)
class HiFiCOptions:
    """Where HiFiC families come from (see ``families.py``).

    Besides these, every ``<family>-<rate>/`` folder of the repository's ``baselines/`` and of
    ``baselines_dir`` (or ``$BENCH_BASELINES_DIR``) is a family.
    """

    #: Checkpoint files or folders of them for the family ``hific``.
    checkpoints: tuple[Path, ...] = option(
        (), flag="--hific-checkpoint", type=Path, metavar="PATH", repeatable=True,
        help="HiFiC checkpoint file, or a folder of them (one per rate), for codec 'hific' (repeatable)",
    )
    #: ``NAME=PATH`` family declarations.
    families: tuple[str, ...] = option(
        (), flag="--hific-family", metavar="NAME=PATH", repeatable=True,
        help="another HiFiC family under codec name NAME: a checkpoint file or folder (repeatable)",
    )
    #: YAML files ``families: {NAME: PATH or [PATH, ...]}``.
    config_files: tuple[Path, ...] = option(
        (), flag="--hific-config", type=Path, metavar="FILE", repeatable=True,
        help="YAML file declaring HiFiC families, `families: {NAME: PATH or [PATH, ...]}`, paths relative to the file (repeatable)",
    )
    #: Another folder of ``<family>-<rate>/`` checkpoint folders.
    baselines_dir: Path | None = option(
        None, flag="--baselines-dir", type=Path, metavar="DIR",
        help=f"extra folder of <family>-<rate>/ HiFiC checkpoint folders, besides the repository's baselines/ (default: ${BASELINES_DIR_ENV})",
    )
