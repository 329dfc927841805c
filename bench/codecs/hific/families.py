"""Where HiFiC families come from: baselines folders, the command line and a families file.

A family is a codec name and its checkpoints, one per setting (``{"lo": path, "hi": path}``).
Sources, later ones adding to or replacing settings of earlier ones:

1. the repository's ``baselines/<family>-<rate>/`` folders (found from the package's own
   location, not the working directory), then ``--baselines-dir DIR`` or
   ``$BENCH_BASELINES_DIR`` laid out the same way;
2. ``--hific-checkpoint PATH`` for the family ``hific``;
3. ``--hific-config FILE``: YAML ``families: {NAME: PATH or [PATH, ...]}``, relative paths
   under the file's folder;
4. ``--hific-family NAME=PATH``.

Every PATH is a checkpoint file or a folder of them. Mistakes raise :class:`BenchError`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping


from bench import resources
from bench.codecs.declarations import read_declarations
from bench.codecs.hific.options import HiFiCOptions
from bench.constants import BASELINES_DIR_ENV
from bench.errors import BenchError

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")
#: Family names become codec names and folder names (``recon/<codec>/``).
FAMILY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

Families = dict[str, dict[str, Path]]


def default_baselines_dir() -> Path:
    """``baselines`` of the source checkout the package runs from (see :mod:`bench.resources`)."""
    return resources.checkout_baselines_dir()


def add_setting(settings: dict[str, Path], checkpoint: Path, owner: str) -> None:
    """Add ``checkpoint`` under its setting name, its file stem; two files of one name are an error.

    ``owner`` names the folder or family for the error.
    """
    setting = checkpoint.stem
    if settings.get(setting, checkpoint) != checkpoint:
        raise BenchError(
            f"{owner} has two checkpoints named {setting!r} ({settings[setting]}, {checkpoint});"
            " settings are named by file name, so rename or link them (e.g. lo.pt, mi.pt)"
        )
    settings[setting] = checkpoint


def checkpoints_in(path: Path, source: str) -> dict[str, Path]:
    """Setting name -> file for a checkpoint file or a folder of checkpoint files.

    ``source`` names where the path was given (e.g. ``--hific-checkpoint``) for the error.
    """
    if path.is_file():
        return {path.stem: path}
    if path.is_dir():
        found: dict[str, Path] = {}
        for checkpoint in sorted(path.iterdir()):
            if checkpoint.suffix in CHECKPOINT_SUFFIXES and checkpoint.is_file():
                add_setting(found, checkpoint, f"{source}: folder {path}")
        if found:
            return found
        raise BenchError(f"{source}: folder {path} holds no checkpoint ({', '.join(CHECKPOINT_SUFFIXES)} files)")
    raise BenchError(f"{source}: {path} does not exist; give a HiFiC checkpoint file or a folder of them")


def baseline_families(folder: Path) -> Families:
    """Families in ``folder/<family>-<rate>/``: the newest-named checkpoint file of each folder."""
    families: Families = {}
    if not folder.is_dir():
        return families
    for sub in sorted(folder.iterdir()):
        family, _, rate = sub.name.rpartition("-")
        files = sorted(p for p in sub.glob("*") if p.suffix in CHECKPOINT_SUFFIXES) if sub.is_dir() else []
        if family and rate and files:
            families.setdefault(family, {})[rate] = files[-1]
    return families


def baseline_folders(options: HiFiCOptions) -> list[Path]:
    """The repository's ``baselines``, then ``--baselines-dir`` or ``$BENCH_BASELINES_DIR``."""
    folders = [default_baselines_dir()]
    chosen, source = options.baselines_dir, "--baselines-dir"
    if not chosen:
        chosen, source = os.environ.get(BASELINES_DIR_ENV), f"${BASELINES_DIR_ENV}"
    if chosen:
        folder = Path(chosen).expanduser()
        if not folder.is_dir():
            raise BenchError(f"{source}: {folder} is not a folder; it should hold <family>-<rate>/ checkpoint folders")
        folders.append(folder)
    return folders


def check_family_name(name: str, source: str) -> str:
    if not FAMILY_NAME.fullmatch(name):
        raise BenchError(
            f"{source}: family name {name!r} must start with a letter or digit and hold only letters, digits, '.', '_', '-'"
        )
    return name


def read_families_file(path: Path) -> Families:
    """The families of a ``--hific-config`` YAML file (relative paths under its folder)."""
    source = f"--hific-config {path}"
    families: Families = {}
    for name, paths in read_declarations(path, "families", "--hific-config", "{NAME: PATH or [PATH, ...]}").items():
        check_family_name(str(name), source)
        entries = paths if isinstance(paths, list) else [paths]
        if not entries or not all(isinstance(entry, str) and entry for entry in entries):
            raise BenchError(f"{source}: family {name!r} needs a checkpoint path or a list of them")
        family = families.setdefault(str(name), {})
        for entry in entries:
            for checkpoint in checkpoints_in(path.parent / Path(entry).expanduser(), source).values():
                add_setting(family, checkpoint, f"{source}: family {name!r}")
    return families


def parse_family_option(spec: str) -> tuple[str, dict[str, Path]]:
    """``NAME=PATH`` of ``--hific-family`` -> (name, checkpoints)."""
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise BenchError(f"--hific-family expects NAME=PATH (a checkpoint file or folder), got {spec!r}")
    source = f"--hific-family {name}"
    return check_family_name(name, source), checkpoints_in(Path(path).expanduser(), source)


def families_from_options(options: HiFiCOptions) -> Families:
    """Every family the options and baselines folders declare; ``hific`` always, maybe empty."""
    families: Families = {"hific": {}}

    def add(name: str, checkpoints: Mapping[str, Path]) -> None:
        families.setdefault(name, {}).update(checkpoints)

    for folder in baseline_folders(options):
        for name, checkpoints in baseline_families(folder).items():
            add(name, checkpoints)
    for path in options.checkpoints:
        add("hific", checkpoints_in(Path(path).expanduser(), "--hific-checkpoint"))
    for path in options.config_files:
        for name, checkpoints in read_families_file(Path(path).expanduser()).items():
            add(name, checkpoints)
    for spec in options.families:
        add(*parse_family_option(spec))
    return families
