"""Training crops and the refusal of evaluation datasets."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from bench.train.config import ConfigError, DataConfig
from bench.train.data import CropSampler, check_training_folders, random_crop, resolve_folders


def test_crops_have_the_configured_size_and_repeat_with_the_seed() -> None:
    images = [torch.randint(0, 256, (3, 321, 481), dtype=torch.uint8), torch.randint(0, 256, (3, 100, 90), dtype=torch.uint8)]
    config = DataConfig(crop_size=128, batch_size=5, min_downscale=0.5)
    first, second = CropSampler(images, config, seed=3), CropSampler(images, config, seed=3)
    batch = first.next_batch()
    assert batch.shape == (5, 3, 128, 128) and batch.dtype == torch.float32
    assert 0.0 <= batch.min() and batch.max() <= 1.0
    assert torch.equal(batch, second.next_batch())
    assert not torch.equal(batch, first.next_batch())


def test_crop_without_downscale_copies_pixels() -> None:
    image = torch.arange(3 * 128 * 128, dtype=torch.int64).reshape(3, 128, 128).remainder(256).to(torch.uint8)
    crop = random_crop(image, 128, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(torch.round(crop * 255).to(torch.uint8), image)


@pytest.mark.parametrize("folder", ["kodak", "urban100-subset50", "bsds500/val"])
def test_evaluation_datasets_are_refused_by_name(data_dir: Path, folder: str) -> None:
    config = DataConfig(folders=(folder,), data_dir=str(data_dir))
    with pytest.raises(ConfigError, match=r"is the evaluation dataset '.*'; training on it would leak test images .*force_eval_data: true"):
        check_training_folders(resolve_folders(config), config)


def test_evaluation_dataset_is_refused_through_a_link(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "my-photos").symlink_to(data_dir / "kodak", target_is_directory=True)
    config = DataConfig(folders=(str(tmp_path / "my-photos"),), data_dir=str(data_dir))
    with pytest.raises(ConfigError, match="is the evaluation dataset 'kodak'"):
        check_training_folders(resolve_folders(config), config)


def test_evaluation_dataset_is_refused_through_a_link_without_a_data_root(tmp_path: Path, data_dir: Path, monkeypatch) -> None:
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    (tmp_path / "my-photos").symlink_to(data_dir / "kodak", target_is_directory=True)
    config = DataConfig(folders=(str(tmp_path / "my-photos"),))
    with pytest.raises(ConfigError, match="is the evaluation dataset 'kodak'"):
        check_training_folders(resolve_folders(config), config)


@pytest.mark.parametrize("image", ["kodak/kodim05.png", "urban100-subset50/img_003.png", "bsds500/val/3096.jpg"])
def test_a_copied_evaluation_image_is_refused_by_its_content(tmp_path: Path, data_dir: Path, image: str, monkeypatch) -> None:
    # kodak and urban100-subset50 by the catalogue's sha256, bsds500/val (no hashes listed) by its local copy's.
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    folder = tmp_path / "my-photos"
    folder.mkdir()
    shutil.copy(data_dir / "bsds500" / "train" / "2092.jpg", folder / "a.jpg")
    shutil.copy(data_dir / image, folder / "b.png")
    config = DataConfig(folders=(str(folder),), data_dir=str(data_dir))
    dataset, _, name = image.replace("bsds500/val", "bsds500-val").partition("/")
    with pytest.raises(ConfigError, match=rf"b\.png is the evaluation image {dataset}/{name} \(same sha256\); training on it would leak"):
        check_training_folders(resolve_folders(config), config)
    forced = DataConfig(folders=(str(folder),), data_dir=str(data_dir), force_eval_data=True)
    check_training_folders(resolve_folders(forced), forced)


def test_training_splits_and_forced_evaluation_data_pass(data_dir: Path) -> None:
    config = DataConfig(folders=("bsds500/train", "bsds500/test"), data_dir=str(data_dir))
    check_training_folders(resolve_folders(config), config)
    forced = DataConfig(folders=("kodak",), data_dir=str(data_dir), force_eval_data=True)
    check_training_folders(resolve_folders(forced), forced)


def test_missing_folder_is_reported(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"data.folders: .*bsds600 is not a folder"):
        resolve_folders(DataConfig(folders=("bsds600",), data_dir=str(data_dir)))
