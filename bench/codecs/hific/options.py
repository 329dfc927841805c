"""The options of the HiFiC codecs: where their checkpoint families come from, and the device.

A light module (no torch), so that building the command line stays fast.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HiFiCOptions:
    """Where HiFiC families come from (see ``families.py``) and where the networks run.

    Besides these, every ``<family>-<rate>/`` folder of the repository's ``baselines/`` and of
    ``baselines_dir`` (or ``$BENCH_BASELINES_DIR``) is a family.
    """

    #: Checkpoint files or folders of them for the family ``hific`` (CLI ``--hific-checkpoint``).
    checkpoints: tuple[Path, ...] = ()
    #: ``NAME=PATH`` family declarations (CLI ``--hific-family``).
    families: tuple[str, ...] = ()
    #: YAML files ``families: {NAME: PATH or [PATH, ...]}`` (CLI ``--hific-config``).
    config_files: tuple[Path, ...] = ()
    #: Another folder of ``<family>-<rate>/`` checkpoint folders (CLI ``--baselines-dir``).
    baselines_dir: Path | None = None
    #: Torch device: ``auto`` (CUDA when present), ``cpu``, ``cuda``, ``cuda:1``...
    device: str = "auto"
