"""The published HiFiC numbers as read by the report."""
import math

import pytest

from bench.metrics.base import Column
from bench.report.published import default_published_dir, load_published, points_for
from bench.report.rundata import quantities_of

QUANTITIES = {q.column: q for q in quantities_of([
    Column("psnr", "PSNR", True, "dB"), Column("ms_ssim", "MS-SSIM", True, db_scale=True),
    Column("fid", "FID", False, per="set"), Column("kid_mean", "KID", False, per="set"),
])}


@pytest.fixture(scope="module")
def sources():
    return load_published(default_published_dir())


def test_hific_card_and_points_are_found(sources):
    (hific,) = [s for s in sources if s.name == "hific"]
    assert "ccf33ea49facf2d48870d06c55032add1662fdbd" in hific.card
    assert len(hific.points) == 9
    assert sorted(set(hific.points["dataset"])) == ["clic2020", "div2k", "kodak"]


def test_kodak_points_match_the_source_and_have_no_fid(sources):
    psnr = points_for(sources, "Kodak", QUANTITIES["psnr"])
    psnr = psnr[psnr["method"] == "HiFiC"]
    assert list(psnr["point"]) == ["Lo", "Mi", "Hi"]
    assert list(psnr["bpp"]) == [0.1825587, 0.35108609, 0.53773159]
    assert psnr["value"].iloc[1] == 29.65373484
    assert points_for(sources, "kodak", QUANTITIES["fid"]).empty  # no source published Kodak FID


def test_kid_is_read_as_the_kid_mean_column_and_ms_ssim_gets_a_db_column(sources):
    kid = points_for(sources, "clic2020", QUANTITIES["kid_mean"])
    assert kid["value"].iloc[0] == 0.00108268
    db = points_for(sources, "clic2020", QUANTITIES["ms_ssim_db"])["value"].iloc[0]
    assert db == pytest.approx(-10 * math.log10(1 - 0.9553839))


def test_a_word_in_a_number_column_is_named_by_file_line_and_column(tmp_path):
    data = tmp_path / "paper" / "data.csv"
    data.parent.mkdir()
    data.write_text("method,dataset,operating_point,bpp,psnr\nX,kodak,Lo,0.12,27.5\nX,kodak,Hi,0.5 bpp,31.0\n")
    expected = (
        f"{data}, line 3, column bpp: '0.5 bpp' is not a number; "
        "write a number such as 0.35, or leave the cell empty where nothing was published"
    )
    with pytest.raises(ValueError) as error:
        load_published(tmp_path)
    assert str(error.value) == expected
    data.write_text("method,dataset,operating_point,bpp,psnr\nX,kodak,Lo,0.12,\n\nX,kodak,Hi,0.5,31.0\n")
    (paper,) = load_published(tmp_path)
    assert list(paper.points["bpp"]) == [0.12, 0.5] and paper.points["psnr"].isna().tolist() == [True, False]


def test_compressai_points_equal_their_source_files_number_for_number(sources):
    import hashlib
    import json

    folder = default_published_dir() / "compressai"
    for line in (folder / "source" / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((folder / "source" / name).read_bytes()).hexdigest() == digest
    (compressai,) = [s for s in sources if s.name == "compressai"]
    points = compressai.points
    assert len(points) == 110 and set(points["dataset"]) == {"kodak"}
    for path in sorted((folder / "source").glob("*.json")):
        data = json.loads(path.read_text())
        results = data["results"]
        rows = points[points["method"] == data["name"]]
        assert rows["bpp"].tolist() == results["bpp"]
        assert rows["psnr"].tolist() == results.get("psnr-rgb", results.get("psnr"))
        assert rows["ms_ssim"].tolist() == results.get("ms-ssim-rgb", results.get("ms-ssim"))
        assert rows["point"].tolist() == [str(index + 1) for index in range(len(results["bpp"]))]
    kodak_psnr = points_for(sources, "kodak", QUANTITIES["psnr"])
    assert {"VTM", "BPG 8b 444 x265 ycbcr", "cheng2020-anchor", "HiFiC"} <= set(kodak_psnr["method"])


def test_msillm_points_are_the_source_files_numbers_digit_for_digit(sources):
    import csv

    (msillm,) = [s for s in sources if s.name == "msillm"]
    assert "dbfe49f7578a74ba7f92724254ca35ddc7a36e65" in msillm.card and "2023-08-22" in msillm.card
    source_rows = list(csv.DictReader((default_published_dir() / "msillm" / "source" / "results.csv").open()))
    data_rows = list(csv.DictReader((default_published_dir() / "msillm" / "data.csv").open()))
    key = lambda row, method: (method, row["dataset"], row["bpp"])  # noqa: E731
    by_key = {key(row, row["model"]): row for row in source_rows}
    assert len(data_rows) == len(source_rows) == 42
    for row in data_rows:
        source = by_key[key(row, row["method"])]
        assert all(row[column] == source[column] for column in ("fid", "kid", "lpips", "ms_ssim", "psnr", "fid_swav", "dists"))
    # The numbers the issue quotes: Kodak LPIPS 0.073 / PSNR 27.53 dB at 0.153 bpp, CLIC2020 FID 2.65 at 0.121 bpp.
    lpips = points_for(sources, "kodak", quantities_of([Column("lpips", "LPIPS", False)])[0])
    third = lpips[(lpips["method"] == "MS-ILLM") & (lpips["point"] == "3")]
    assert third["bpp"].item() == 0.1531745046377182 and third["value"].item() == 0.07317978143692017
    fid = points_for(sources, "clic2020", QUANTITIES["fid"])
    assert fid[fid["method"] == "MS-ILLM"]["value"].iloc[2] == 2.645052433013916
