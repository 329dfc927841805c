"""The run directory: one writer and one reader, and folders written by older code still open."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from PIL import Image

from bench.cli import main
from bench.imageio import read_image
from bench.metrics.kid import KID
from bench.metrics.psnr import PSNR
from bench.report.rundata import load_run
from bench.core.rundir import RunDir

OLD_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "run_dir_478e43a"


def test_an_old_run_folder_reads_in_todays_columns():
    run_dir = RunDir(OLD_RUN)
    table = run_dir.read_results()
    assert "quality" not in table and {"point", "setting", "recon_path"} <= set(table)
    target = table[(table["image"] == "kodim03.png") & (table["target_bpp"] == 0.5)].iloc[0]
    assert (target["point"], target["setting"]) == ("target_bpp=0.5", 15)
    assert target["recon_path"] == "recon/images/jpeg/15/kodim03.png"
    assert run_dir.reconstruction(target) == OLD_RUN / "recon" / "images" / "jpeg" / "15" / "kodim03.png"
    assert sorted(table.loc[table["codec"] == "webp", "point"].unique()) == ["30", "70"]
    distribution = run_dir.read_distribution()
    assert set(distribution["point"]) == {"20", "60", "30", "70", "target_bpp=0.5", "target_bpp=1"}
    # No metrics.json: the built-in metrics describe the columns.
    columns = {column.name: column for column in run_dir.read_metric_columns()}
    assert columns["lpips"].higher_is_better is False and columns["kid_mean"].spread == "kid_std"


def test_an_old_run_folder_gets_a_report_with_its_reconstructions(tmp_path):
    run = load_run(OLD_RUN)
    assert {q.column for q in run.quantities if run.available(q)} == {"psnr", "lpips"}
    assert all(run.reconstruction(row) is not None for _, row in run.results.iterrows())
    output = tmp_path / "report.html"
    assert main(["report", str(OLD_RUN), "-o", str(output), "--originals", str(OLD_RUN.parent / "none")]) == 0
    text = output.read_text()
    assert 'data-label="PSNR"' in text and 'data-label="LPIPS"' in text  # their interactive plots
    assert text.count("data:image/webp;base64,") == 18  # one crop per row: 3 images x 6 points


def test_an_old_run_folder_is_continued_by_bench_run(tmp_path, kodak_dir, capsys):
    shutil.copytree(OLD_RUN, tmp_path / "run")
    images = tmp_path / "images"
    images.mkdir()
    for name in ("kodim03", "kodim07", "kodim19"):  # the fixture's crops, remade as its README says
        Image.fromarray(read_image(kodak_dir / f"{name}.png")[200:296, 300:428].copy()).save(images / f"{name}.png")
    arguments = ["run", "--codecs", "jpeg,webp", "--images", str(images), "--settings", "jpeg=20,60,90", "--settings", "webp=30,70",
                 "--metrics", "psnr", "--jobs", "1", "--out", str(tmp_path / "run")]
    assert main(arguments) == 0
    assert "15 jobs (3 images x 2 codecs), 12 already done, 3 to run" in capsys.readouterr().err
    table = pd.read_csv(tmp_path / "run" / "results.csv")
    assert len(table) == 21 and "quality" not in table
    assert set(table.loc[table["codec"] == "jpeg", "point"]) == {"20", "60", "90", "target_bpp=0.5", "target_bpp=1"}


def test_metric_descriptions_accumulate_in_the_folder(tmp_path):
    run_dir = RunDir(tmp_path)
    run_dir.write_metric_columns(PSNR.columns)
    run_dir.write_metric_columns(KID.columns)
    assert [column.name for column in run_dir.read_metric_columns()] == ["psnr", "kid_mean", "kid_std"]
