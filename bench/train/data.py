"""Training images: folders of images -> batches of random crops with a random downscale.

As in HiFiC, each crop is taken from the image downscaled by a random factor, which
removes JPEG artefacts and shows the model more content per crop. The images are decoded
once and held in memory as uint8 (BSDS500 train + test, 400 images: ~185 MB); every random
draw comes from one ``torch.Generator`` whose state is saved in checkpoints, so a resumed
run sees exactly the batches the uninterrupted run would have seen.

Evaluation datasets are refused (training on Kodak and then reporting Kodak numbers is the
classic leak) unless the config says ``force_eval_data: true``: by folder name or location,
and by content (an image with the sha256 of an evaluation image, wherever it lies).
"""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import torch
import torch.nn.functional as F

from bench.constants import DATA_DIR_ENV
from bench.datasets import Dataset, DatasetError, list_images, load_catalog, sha256_of
from bench.imageio import read_image
from bench.train.config import ConfigError, DataConfig

#: Dataset names (fnmatch patterns) reserved for evaluation.
EVALUATION_DATASETS = ("kodak", "urban100*", "bsds500-val", "clic*", "div2k*")
_LEAK_ADVICE = (
    "training on it would leak test images into the model. Train on training images "
    "(e.g. bsds500/train and bsds500/test) or set data.force_eval_data: true"
)


def data_root(config: DataConfig) -> Path | None:
    """``data.data_dir``, else the ``BENCH_DATA_DIR`` setting, else None."""
    chosen = config.data_dir or os.environ.get(DATA_DIR_ENV)
    return Path(chosen).expanduser() if chosen else None


def resolve_folders(config: DataConfig) -> list[Path]:
    """The configured image folders as existing paths (relative ones under the data root)."""
    root = data_root(config)
    folders = []
    for entry in config.folders:
        path = Path(entry).expanduser()
        if not path.is_absolute():
            if root is None:
                raise ConfigError(f"data.folders: {entry!r} is relative but neither data.data_dir nor ${DATA_DIR_ENV} is set")
            path = root / path
        if not path.is_dir():
            raise ConfigError(f"data.folders: {path} is not a folder; check data.data_dir / ${DATA_DIR_ENV}")
        folders.append(path)
    return folders


def evaluation_dataset_of(folder: Path, root: Path | None) -> str | None:
    """The evaluation dataset ``folder`` is (by name, or by being the same folder), else None.

    Names are checked on the folder as given and as resolved (a link named ``my-photos``
    pointing at ``.../kodak`` is Kodak), and relative to the data root when there is one.
    """
    resolved = folder.resolve()
    names = {folder.name, f"{folder.parent.name}-{folder.name}", resolved.name, f"{resolved.parent.name}-{resolved.name}"}
    if root is not None and resolved.is_relative_to(root.resolve()):
        names.add(resolved.relative_to(root.resolve()).as_posix().replace("/", "-"))
    for name in names:
        if any(fnmatch.fnmatch(name.lower(), pattern) for pattern in EVALUATION_DATASETS):
            return name
    if root is None:
        return None
    for dataset in evaluation_datasets():
        candidate = root / dataset.local_dir
        if candidate.is_dir() and candidate.samefile(folder):
            return dataset.name
    return None


def evaluation_datasets() -> list[Dataset]:
    """The catalogue's datasets not marked ``role: training`` (none without a catalogue)."""
    try:
        catalog = load_catalog()
    except DatasetError:
        return []
    return [dataset for dataset in catalog.values() if dataset.role != "training"]


def evaluation_image_hashes(roots: set[Path]) -> dict[str, str]:
    """sha256 -> ``dataset/file`` of every known evaluation image.

    The catalogue's hashes, and for evaluation datasets it lists without hashes, those of
    their local copies under ``roots`` (e.g. ``bsds500/val``).
    """
    hashes: dict[str, str] = {}
    for dataset in evaluation_datasets():
        listed = {item.sha256: f"{dataset.name}/{item.name}" for item in dataset.files if item.sha256}
        hashes.update(listed)
        if listed:
            continue
        for root in roots:
            copy = root / dataset.local_dir
            if copy.is_dir():
                hashes.update({sha256_of(path): f"{dataset.name}/{path.name}" for path in list_images(copy, dataset.suffixes)})
    return hashes


def check_training_folders(folders: list[Path], config: DataConfig) -> None:
    """Refuse evaluation datasets unless ``force_eval_data`` is set.

    A folder is refused by its name or location (:func:`evaluation_dataset_of`), and any
    image in it whose sha256 is that of an evaluation image (a copy elsewhere).
    """
    if config.force_eval_data:
        return
    roots = {root for root in (data_root(config), Path(os.environ[DATA_DIR_ENV]) if os.environ.get(DATA_DIR_ENV) else None) if root}
    for folder in folders:
        for root in roots or {None}:
            name = evaluation_dataset_of(folder, root)
            if name:
                raise ConfigError(f"data.folders: {folder} is the evaluation dataset {name!r}; {_LEAK_ADVICE}")
    hashes = evaluation_image_hashes(roots)
    for folder in folders:
        for path in list_images(folder):
            match = hashes.get(sha256_of(path))
            if match:
                raise ConfigError(f"data.folders: {path} is the evaluation image {match} (same sha256); {_LEAK_ADVICE}")


def load_images(folders: list[Path]) -> list[torch.Tensor]:
    """Every image of the folders as a (3, H, W) uint8 tensor, in sorted file order."""
    paths = [path for folder in folders for path in list_images(folder)]
    if not paths:
        raise ConfigError(f"data.folders: no images in {', '.join(str(f) for f in folders)}")
    return [torch.tensor(read_image(path)).permute(2, 0, 1).contiguous() for path in paths]


def random_crop(image: torch.Tensor, crop_size: int, min_downscale: float, generator: torch.Generator) -> torch.Tensor:
    """One (3, crop, crop) float crop in [0, 1] of ``image`` downscaled by a random factor.

    The factor is uniform in [max(min_downscale, crop / short side), 1]; an image whose
    short side is below the crop is upscaled just enough.
    """
    short_side = min(image.shape[-2:])
    low = max(min_downscale, crop_size / short_side)
    high = max(1.0, low)
    scale = low + (high - low) * float(torch.rand((), generator=generator))
    window = min(short_side, round(crop_size / scale))
    top = int(torch.randint(image.shape[-2] - window + 1, (), generator=generator))
    left = int(torch.randint(image.shape[-1] - window + 1, (), generator=generator))
    patch = image[None, :, top : top + window, left : left + window].float() / 255.0
    if window != crop_size:
        patch = F.interpolate(patch, size=(crop_size, crop_size), mode="bilinear", antialias=True, align_corners=False)
    return patch[0].clamp(0.0, 1.0)


class CropSampler:
    """Endless random batches of crops from in-memory images."""

    def __init__(self, images: list[torch.Tensor], config: DataConfig, seed: int) -> None:
        self.images = images
        self.config = config
        self.generator = torch.Generator().manual_seed(seed)

    def next_batch(self) -> torch.Tensor:
        """(batch, 3, crop, crop) float32 in [0, 1] on the CPU."""
        indexes = torch.randint(len(self.images), (self.config.batch_size,), generator=self.generator)
        crops = [
            random_crop(self.images[int(i)], self.config.crop_size, self.config.min_downscale, self.generator)
            for i in indexes
        ]
        return torch.stack(crops)


def training_sampler(config: DataConfig, seed: int) -> tuple[CropSampler, list[Path], int]:
    """(sampler, folders, image count) for a data config, after the evaluation-data check."""
    folders = resolve_folders(config)
    check_training_folders(folders, config)
    images = load_images(folders)
    return CropSampler(images, config, seed), folders, len(images)
