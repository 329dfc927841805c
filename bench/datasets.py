"""Datasets: the catalogue in ``datasets.yaml``, local copies, downloads and verification.

Where images come from, in order:

1. ``--data-dir DIR`` or the environment variable ``BENCH_DATA_DIR``: a folder holding
   local copies, one sub-folder per dataset (the entry's ``local_dir``, e.g. ``DIR/kodak``).
   When set, it is used and nothing is downloaded.
2. The cache (``--cache-dir`` or ``BENCH_CACHE_DIR``, default ``~/.cache/codec-bench``):
   ``CACHE/datasets/<name>/``, filled by ``bench datasets fetch NAME`` or on first use.

Files with a known sha256 are verified whenever a dataset is resolved.
"""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench import resources
from bench.constants import CACHE_DIR_ENV, CATALOG_ENV, DATA_DIR_ENV
from bench.errors import BenchError

#: ``download: {kind: package}``: the images ship inside the package, under ``bench/data/<local_dir>``.
PACKAGE_KIND = "package"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp")


class DatasetError(BenchError):
    pass


@dataclass(frozen=True)
class DatasetFile:
    name: str
    sha256: str | None = None


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    license: str
    local_dir: str
    download: dict[str, Any]
    files: tuple[DatasetFile, ...] = ()
    role: str = "evaluation"
    suffixes: tuple[str, ...] = field(default=IMAGE_SUFFIXES)


def default_catalog_path() -> Path:
    """``$BENCH_DATASETS_FILE``, else the catalogue that ships with the package."""
    return Path(os.environ.get(CATALOG_ENV) or resources.catalog_file())


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV, Path.home() / ".cache" / "codec-bench"))


def load_catalog(path: str | Path | None = None) -> dict[str, Dataset]:
    """Read the dataset catalogue (``datasets.yaml``) into :class:`Dataset` entries by name."""
    path = Path(path) if path else default_catalog_path()
    if not path.is_file():
        raise DatasetError(f"dataset catalogue {path} not found; set {CATALOG_ENV} to your datasets.yaml")
    entries = yaml.safe_load(path.read_text()) or {}
    catalog = {}
    for name, entry in entries.items():
        download = dict(entry.get("download", {}))
        catalog[name] = Dataset(
            name=name,
            description=entry.get("description", ""),
            license=entry.get("license", ""),
            local_dir=entry.get("local_dir", name),
            download=download,
            files=tuple(DatasetFile(item["name"], item.get("sha256")) for item in entry.get("files", [])),
            role=entry.get("role", "evaluation"),
            suffixes=tuple(download.get("suffixes", IMAGE_SUFFIXES)),
        )
    return catalog


def get_dataset(name: str, catalog: dict[str, Dataset] | None = None) -> Dataset:
    catalog = catalog if catalog is not None else load_catalog()
    if name not in catalog:
        raise DatasetError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(catalog))} (see `bench datasets`)")
    return catalog[name]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_images(folder: Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def verify(dataset: Dataset, folder: Path) -> list[Path]:
    """Check a local copy against the catalogue and return its image paths in order.

    With a file list, exactly those files are used and each sha256 given is checked;
    without one, every image file in the folder is used.
    """
    if not dataset.files:
        images = list_images(folder, dataset.suffixes)
        if not images:
            raise DatasetError(f"dataset {dataset.name}: no images in {folder}")
        return images
    paths = []
    for item in dataset.files:
        path = folder / item.name
        if not path.is_file():
            raise DatasetError(
                f"dataset {dataset.name}: {item.name} is missing from {folder}; "
                f"run `bench datasets fetch {dataset.name}` or fix the local copy"
            )
        if item.sha256 and sha256_of(path) != item.sha256:
            raise DatasetError(
                f"dataset {dataset.name}: {item.name} in {folder} does not match its sha256; "
                "the copy is corrupt or a different version: fetch it again"
            )
        paths.append(path)
    return paths


def resolve(
    name: str,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
    catalog: dict[str, Dataset] | None = None,
) -> list[Path]:
    """The verified image paths of dataset ``name``, from a local copy or the cache.

    Downloads into the cache when there is neither a data directory nor a cached copy and
    ``download`` is true.
    """
    dataset = get_dataset(name, catalog)
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV)
    if data_dir and not Path(data_dir).is_dir():
        raise DatasetError(f"data directory {data_dir} does not exist; fix --data-dir or ${DATA_DIR_ENV}")
    if dataset.download.get("kind") == PACKAGE_KIND:
        return verify(dataset, resources.DATA_DIR / dataset.local_dir)
    if data_dir:
        root = Path(data_dir)
        folder = root / dataset.local_dir
        if not folder.is_dir():
            raise DatasetError(
                f"dataset {name}: no folder {dataset.local_dir!r} under data directory {root}; "
                f"put a copy there or unset --data-dir/${DATA_DIR_ENV} to download it"
            )
        return verify(dataset, folder)
    folder = Path(cache_dir or default_cache_dir()) / "datasets" / name
    if not folder.is_dir():
        if not download:
            raise DatasetError(f"dataset {name} is not in the cache {folder.parent}; run `bench datasets fetch {name}`")
        fetch(name, cache_dir=cache_dir, catalog=catalog)
    return verify(dataset, folder)


def _download(url: str, destination: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(destination, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        raise DatasetError(f"download of {url} failed ({exc}); check the network or use --data-dir with a local copy") from None


def _extract_members(archive: Path, prefix: str, suffixes: tuple[str, ...], wanted: set[str] | None, target: Path) -> None:
    def keep(member_name: str) -> str | None:
        if not member_name.startswith(prefix):
            return None
        relative = member_name[len(prefix):]
        if "/" in relative or Path(relative).suffix.lower() not in suffixes:
            return None
        if wanted is not None and relative not in wanted:
            return None
        return relative

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.namelist():
                relative = keep(member)
                if relative:
                    (target / relative).write_bytes(bundle.read(member))
        return
    with tarfile.open(archive) as bundle:
        for member in bundle.getmembers():
            relative = keep(member.name) if member.isfile() else None
            if relative:
                extracted = bundle.extractfile(member)
                assert extracted is not None
                (target / relative).write_bytes(extracted.read())


def fetch(name: str, cache_dir: str | Path | None = None, catalog: dict[str, Dataset] | None = None) -> Path:
    """Download dataset ``name`` into the cache, verify it, and return its folder."""
    dataset = get_dataset(name, catalog)
    folder = Path(cache_dir or default_cache_dir()) / "datasets" / name
    folder.parent.mkdir(parents=True, exist_ok=True)
    spec = dataset.download
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        staging = Path(scratch) / name
        staging.mkdir()
        if spec.get("kind") == "files":
            if not dataset.files:
                raise DatasetError(f"dataset {name}: a per-file download needs a file list in datasets.yaml")
            for item in dataset.files:
                _download(spec["url_template"].format(name=item.name), staging / item.name)
        elif spec.get("kind") == "archive":
            archive = Path(scratch) / "archive"
            _download(spec["url"], archive)
            wanted = {item.name for item in dataset.files} or None
            _extract_members(archive, spec.get("members", ""), dataset.suffixes, wanted, staging)
        else:
            raise DatasetError(f"dataset {name}: unknown download kind {spec.get('kind')!r} in datasets.yaml")
        verify(dataset, staging)
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    return folder


@dataclass(frozen=True)
class SkippedFile:
    """A file ``--images`` names but does not read, and why."""

    path: Path
    reason: str


def _skip_reason(path: Path) -> str | None:
    """Why ``--images`` does not read ``path``, or None when it is an image file it reads."""
    if path.is_symlink() and not path.exists():
        return "broken symbolic link"
    if path.is_dir():
        return "sub-folder, not read (use a glob such as 'DIR/**/*.png' to include sub-folders)"
    if not path.is_file():
        return "not a regular file"
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return f"unsupported extension {path.suffix or '(none)'} (--images reads {', '.join(IMAGE_SUFFIXES)})"
    return None


def images_from_pattern(pattern: str) -> tuple[list[Path], list[SkippedFile]]:
    """The images named by ``--images`` (a folder, or a glob pattern; ``**`` reaches into
    sub-folders), and every other entry it names with the reason it is not read."""
    path = Path(pattern).expanduser()
    if path.is_dir():
        candidates = sorted(path.iterdir())
    else:
        candidates = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
    reasons = {candidate: _skip_reason(candidate) for candidate in candidates}
    images = [candidate for candidate, reason in reasons.items() if reason is None]
    skipped = [SkippedFile(candidate, reason) for candidate, reason in reasons.items() if reason is not None]
    if not images:
        found = f" ({len(skipped)} entries, none an image file it reads: {skipped[0].path.name}: {skipped[0].reason})" if skipped else ""
        raise DatasetError(f"--images {pattern}: no image files found{found}; give a folder or a glob such as 'photos/*.png'")
    return images, skipped
