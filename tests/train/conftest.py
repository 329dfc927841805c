"""Small training inputs: a folder of a few BSDS500 training crops and a fixed batch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bench.imageio import read_image


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny model's convolutions run faster on one thread, and one thread keeps the
    bit-exact resume comparison independent of how work is split between threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def bsds_train_images(data_dir: Path) -> list[np.ndarray]:
    paths = sorted((data_dir / "bsds500" / "train").glob("*.jpg"))[:3]
    return [read_image(path) for path in paths]


@pytest.fixture
def train_folder(tmp_path: Path, bsds_train_images: list[np.ndarray]) -> Path:
    """Three 200x160 crops of BSDS500 training images (PNG), so loading takes milliseconds."""
    folder = tmp_path / "train-images"
    folder.mkdir()
    for index, image in enumerate(bsds_train_images):
        Image.fromarray(image[:160, :200]).save(folder / f"{index}.png")
    return folder


@pytest.fixture(scope="session")
def fixed_batch(bsds_train_images: list[np.ndarray]) -> torch.Tensor:
    """Two 128x128 crops of one training image, (2, 3, 128, 128) in [0, 1]."""
    image = bsds_train_images[0]
    crops = [image[:128, :128], image[128:256, 200:328]]
    return torch.stack([torch.from_numpy(np.ascontiguousarray(c)).permute(2, 0, 1) for c in crops]).float() / 255.0
