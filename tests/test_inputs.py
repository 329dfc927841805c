"""What a newcomer's folder of awkward files gives: every file not read is named, no raw library
warning reaches the terminal, and the summary's bpp range is not set by a degenerate image."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bench.imageio import read_image
from cli_helpers import REPO_ROOT, run_bench


def jpeg_with_corrupt_exif(path: Path, image: np.ndarray) -> None:
    """A JPEG whose APP1 EXIF block announces more bytes than it holds."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=90)
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 10
    app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    data = buffer.getvalue()
    path.write_bytes(data[:2] + app1 + data[2:])


@pytest.fixture
def awkward_folder(tmp_path: Path, kodak_dir: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    kodim = read_image(kodak_dir / "kodim05.png")
    for index in range(3):
        Image.fromarray(kodim[index * 128 : index * 128 + 128, :192].copy()).save(folder / f"good{index}.png")
    jpeg_with_corrupt_exif(folder / "exif.jpg", kodim[:96, :128].copy())
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(folder / "dot.png")
    frames = [Image.fromarray(np.full((32, 32, 3), value, np.uint8)) for value in (0, 255)]
    frames[0].save(folder / "moving.gif", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "moving.png", save_all=True, append_images=frames[1:])
    (folder / "gone.png").symlink_to(folder / "deleted.png")
    (folder / "more").mkdir()
    Image.fromarray(kodim[:128, :128].copy()).save(folder / "more" / "nested.png")
    for name in ("notes.txt", "README", "data.csv", "thumbs.db"):
        (folder / name).write_text("not an image\n")
    return folder


def test_every_file_not_read_is_named_and_listed(awkward_folder, tmp_path):
    result = run_bench("run", "--codecs", "jpeg", "--images", str(awkward_folder), "--settings", "jpeg=50",
                       "--metrics", "psnr", "--jobs", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("bench: not read: ")]
    assert len(lines) == 5
    assert any(line.endswith("gone.png: broken symbolic link") for line in lines)
    assert any("moving.gif: unsupported extension .gif (--images reads .png, .jpg" in line for line in lines)
    assert any("more: sub-folder, not read (use a glob such as 'DIR/**/*.png'" in line for line in lines)
    assert "bench: ... and 2 more not read; all 7 are listed under not_read in" in result.stderr
    listed = json.loads((tmp_path / "run" / "metadata.json").read_text())["not_read"]
    assert sorted(Path(entry["file"]).name for entry in listed) == [
        "README", "data.csv", "gone.png", "more", "moving.gif", "notes.txt", "thumbs.db",
    ]


def test_library_warnings_go_to_the_row_not_the_terminal(awkward_folder, tmp_path):
    result = run_bench("run", "--codecs", "jpeg", "--images", str(awkward_folder), "--settings", "jpeg=50",
                       "--metrics", "psnr", "--jobs", "2", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "warnings.warn" not in result.stderr
    table = pd.read_csv(tmp_path / "run" / "results.csv").set_index("image")
    assert table.loc["exif.jpg", "status"] == "ok"
    assert table.loc["exif.jpg", "input_note"].startswith("UserWarning: Corrupt EXIF data.")
    assert table.loc["moving.png", "status"] == "error"
    assert table.loc["moving.png", "error"] == "moving.png: animated image (2 frames); give a still image (one frame)"
    assert pd.isna(table.loc["good0.png", "input_note"])


def test_summary_bpp_range_is_not_set_by_a_one_pixel_image(awkward_folder, tmp_path):
    result = run_bench("run", "--codecs", "jpeg", "--images", str(awkward_folder), "--settings", "jpeg=20,80",
                       "--metrics", "psnr", "--jobs", "2", "--out", str(tmp_path / "run"))
    table = pd.read_csv(tmp_path / "run" / "results.csv")
    ok = table[table["status"] == "ok"]
    assert ok["bpp"].max() > 1000  # the 1x1 image: its header alone
    (line,) = [line for line in result.stdout.splitlines() if line.strip().startswith("jpeg ")]
    medians = ok.groupby("point")["bpp"].median()
    assert f" {medians.min():.3f}-{medians.max():.3f} " in line and medians.max() < 10


def test_a_recursive_glob_reads_sub_folders(awkward_folder, tmp_path):
    result = run_bench("run", "--codecs", "jpeg", "--images", str(awkward_folder / "**" / "*.png"), "--settings", "jpeg=50",
                       "--metrics", "psnr", "--jobs", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "run" / "results.csv")
    assert {"nested.png", "good0.png", "dot.png"} <= set(table["image"])
    assert set(table["dataset"]) == {"photos"}  # the folder before the wildcards, not "**"
    assert "gone.png: broken symbolic link" in result.stderr


def test_the_browser_test_fails_in_one_line_without_chromium(tmp_path):
    """Run the browser test where chromium and chromedriver cannot be found."""
    env = dict(os.environ, PATH=str(tmp_path))  # an empty folder: no browser on PATH
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/report/test_browser.py", "-k", "console_errors"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0
    assert "the browser tests need chromium and chromedriver on PATH; install them: " \
           "sudo apt-get update && sudo apt-get install chromium chromium-driver" in result.stdout
    assert "Binary Location Must be a String" not in result.stdout


def test_two_images_with_one_stem_are_refused_naming_both(tmp_path, kodak_dir):
    folder = tmp_path / "photos"
    folder.mkdir()
    kodim = read_image(kodak_dir / "kodim05.png")[:64, :64].copy()
    Image.fromarray(kodim).save(folder / "holiday.png")
    Image.fromarray(kodim).save(folder / "holiday.jpg")
    result = run_bench("run", "--codecs", "jpeg", "--images", str(folder), "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"bench: error: images {folder}: {folder / 'holiday.jpg'} and {folder / 'holiday.png'} share the name 'holiday' "
        "(their reconstructions and bitstreams would be one file); rename one, or give one folder at a time"
    )


def test_reconstructions_and_bitstreams_are_named_by_the_image_stem(tmp_path, kodak_dir):
    folder = tmp_path / "photos"
    folder.mkdir()
    kodim = read_image(kodak_dir / "kodim05.png")[:64, :96].copy()
    Image.fromarray(kodim).save(folder / "holiday.jpg", quality=95)
    Image.fromarray(kodim).save(folder / "kodim03.png")
    result = run_bench("run", "--codecs", "webp", "--settings", "webp=50", "--images", str(folder), "--metrics", "psnr",
                       "--save-recon", "--save-bitstreams", "--jobs", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "run" / "results.csv").set_index("image")
    assert table.loc["holiday.jpg", "recon_path"] == "recon/photos/webp/50/holiday.png"
    assert table.loc["kodim03.png", "recon_path"] == "recon/photos/webp/50/kodim03.png"
    assert table.loc["holiday.jpg", "bitstream_path"] == "bitstreams/photos/webp/50/holiday.webp"


def test_a_missing_file_names_the_path_that_was_tried(tmp_path, monkeypatch):
    from bench.imageio import ImageReadError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImageReadError) as raised:
        read_image("kodim01.png")
    assert str(raised.value) == f"kodim01.png: no such file ({tmp_path / 'kodim01.png'}); check the path and the working folder"


def png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that announces ``width`` x ``height`` pixels (and holds none): a decompression bomb's header."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_an_error_row_naming_the_file(tmp_path):
    folder = tmp_path / "bombs"
    folder.mkdir()
    png_header_only(folder / "bomb.png", 20000, 20000)
    Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(folder / "fine.png")
    result = run_bench("run", "--codecs", "jpeg", "--images", str(folder), "--settings", "jpeg=50", "--metrics", "psnr",
                       "--jobs", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "run" / "results.csv").set_index("image")
    assert table.loc["fine.png", "status"] == "ok"
    assert table.loc["bomb.png", "error"].startswith("bomb.png: Image size (400000000 pixels) exceeds limit")


def test_an_empty_metrics_list_is_refused_in_one_line(tmp_path):
    result = run_bench("run", "--codecs", "jpeg", "--metrics", "", "--limit", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("bench: error: metrics: none named; give at least one, such as psnr,ms_ssim "
                                     "(`all`: every metric that can run here)")
