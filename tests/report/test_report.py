"""`bench report` and `bench compare` on a small real run (HTML level; the browser test opens it)."""
import html
import json
import shutil
import re

import pandas as pd
import pytest

from bench.cli import main
from bench.metrics.fid import FID
from bench.metrics.kid import KID
from bench.metrics.lpips import LPIPS
from bench.report.html import build_report, parse_pair
from bench.core.rundir import RunDir


@pytest.fixture(scope="module")
def report_html(small_run, tmp_path_factory):
    run_dir, originals = small_run
    output = build_report(run_dir, tmp_path_factory.mktemp("report") / "report.html", anchor="jpeg",
                          groups=[[("jpeg", "webp")]], originals=originals)
    return output.read_text()


def test_the_run_has_the_documented_columns(small_run):
    results = pd.read_csv(small_run[0] / "results.csv")
    assert {"dataset", "image", "codec", "point", "setting", "bytes", "bpp", "psnr", "ms_ssim", "status"} <= set(results)
    assert len(results) == 12 and (results["status"] == "ok").all()
    assert results["bpp"].to_numpy() == pytest.approx(8 * results["bytes"].to_numpy() / (768 * 512), rel=1e-12)


def test_hostile_names_are_escaped(report_html, hostile_name):
    assert "<script>alert(1)" not in report_html
    assert html.escape(hostile_name) in report_html  # in the per-image table
    assert "\\u003cscript\\u003ealert(1)" in report_html  # in the viewer's JSON


def test_report_is_self_contained(report_html):
    # The page itself (the inlined plotly.js holds the address of plotly's logo, which is turned off).
    page = re.sub(r"<script>/\*\*\n\* plotly\.js.*?</script>", "", report_html, flags=re.S)
    assert len(page) < len(report_html) - 1_000_000
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert len(re.findall(r'<div class="plot" id="plot-\d+"', report_html)) == 3  # PSNR, MS-SSIM, MS-SSIM dB
    assert "plotly.js (basic - minified) v4.1.1" in report_html  # inlined, not fetched


def test_a_described_metric_without_values_is_stated_not_fatal(small_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(small_run[0], run_dir)
    RunDir(run_dir).write_metric_columns([*LPIPS.columns, *FID.columns])
    text = build_report(run_dir, tmp_path / "report.html", originals=small_run[1]).read_text()
    assert "LPIPS: the run has no LPIPS values" in text
    assert "FID: the run has no FID values (no distribution_metrics.csv" in text


def matrix_row(text: str, codec: str) -> list[str]:
    row = re.search(rf"<tr><td>{re.escape(codec)}</td>(.*?)</tr>", text.split('<section id="bd-rates">')[1]).group(1)
    return re.findall(r"<td class=\"num\"[^>]*>([^<]+)", row)


def test_bd_matrix_and_verdicts_have_numbers(report_html, small_run):
    from bench.report.matched import compare
    from bench.report.rundata import load_run

    psnr, ms_ssim = matrix_row(report_html, "webp")
    assert re.fullmatch(r"-\d+\.\d % \[-\d+\.\d, [-+]\d+\.\d\]", psnr)  # WebP needs fewer bits than JPEG on PSNR
    # The same number `bench compare` gives: one definition of BD-rate.
    (row,) = [row for row in compare(load_run(small_run[0]), "jpeg", "webp").rows if row.kind == "BD-rate" and row.quantity.label == "PSNR"]
    assert psnr == f"{row.estimate.mean:+.1f} % [{row.estimate.low:+.1f}, {row.estimate.high:+.1f}]"
    verdict = report_html.split('<section id="verdict">')[1].split("</section>")[0]
    assert f"<li>webp {row.estimate.mean:+.1f} % [" in verdict
    assert re.search(r"At [\d.]+ bpp, compared with jpeg, webp is [\d.]+ dB \[[\d.]+, [\d.]+\] higher \(better\) in PSNR", report_html)


def test_viewer_embeds_one_crop_per_image_and_reconstruction(report_html):
    # 2 originals + 2 images x 2 codecs x 3 settings
    assert re.search(r"(\d+) crops, [\d.]+ KiB embedded", report_html).group(1) == "14"


def test_compare_command_prints_the_table(small_run, capsys):
    assert main(["compare", str(small_run[0]), "jpeg:webp"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"PSNR\s+BD-rate\s+-\d+(\.\d+)? % \[", out)
    assert "compared with jpeg, webp" in out


def test_bad_input_is_one_line(small_run, tmp_path, capsys):
    assert main(["compare", str(small_run[0]), "jpeg:avif"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"bench: error: codec 'avif' has no successful rows in {small_run[0]}; codecs there: jpeg, webp"
    )
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "x.html")]) == 2
    assert "no results.parquet or results.csv" in capsys.readouterr().err
    with pytest.raises(ValueError, match="expected two codec names as A:B"):
        parse_pair("jpeg")


def test_distribution_metrics_get_plots_and_bd_rows(small_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(small_run[0], run_dir)
    results = pd.read_csv(run_dir / "results.csv")
    means = results.groupby(["codec", "point"], as_index=False)["bpp"].mean()
    # FID and KID that fall as the rate rises, as they do for real codecs.
    means["fid"] = 40.0 / means["bpp"]
    means["kid_mean"] = 0.02 / means["bpp"]
    means["kid_std"] = 0.001
    means.rename(columns={"bpp": "mean_bpp"}).assign(dataset="kodak", n_patches=96).to_csv(
        run_dir / "distribution_metrics.csv", index=False
    )
    RunDir(run_dir).write_metric_columns([*FID.columns, *KID.columns])
    text = build_report(run_dir, tmp_path / "report.html", groups=[[("jpeg", "webp")]], originals=small_run[1]).read_text()
    assert len(re.findall(r'<div class="plot" id="plot-\d+"', text)) == 5
    assert "FID: the run has no FID values" not in text
    assert re.search(r"<td>FID</td><td>BD-rate</td><td>[-+]\d", text)
    cells = matrix_row(text, "webp")  # PSNR, MS-SSIM, FID, KID
    assert len(cells) == 4 and all(cell.endswith("% (mean curves)") for cell in cells[2:])
    assert "dataset-level metric: no per-image interval" not in text  # the reason is not shown for a number


def test_output_folder_gets_report_html_and_an_unwritable_output_is_one_line(small_run, tmp_path, capsys):
    assert main(["report", str(small_run[0]), "-o", str(tmp_path), "--viewer-images", "0"]) == 0
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert capsys.readouterr().out.startswith(f"bench: wrote {tmp_path / 'report.html'} (")
    (tmp_path / "taken").write_text("")
    assert main(["report", str(small_run[0]), "-o", str(tmp_path / "taken" / "r.html")]) == 2
    assert capsys.readouterr().err == (
        f"bench: error: {tmp_path / 'taken' / 'r.html'}: cannot write the report ({tmp_path / 'taken'}: File exists); "
        "pass -o a writable path such as reports/kodak.html\n"
    )


def test_run_without_ok_rows_or_with_a_broken_file_is_one_line(small_run, tmp_path, capsys):
    results = pd.read_csv(small_run[0] / "results.csv")
    results.assign(status="error").to_csv(tmp_path / "results.csv", index=False)
    assert main(["compare", str(tmp_path), "jpeg:webp"]) == 2
    assert capsys.readouterr().err == (
        f"bench: error: {tmp_path}: none of its 12 result rows has status ok, so there is nothing to report; "
        "see the error column of results.csv, fix the cause and run `bench run --retry-errors`\n"
    )
    results.to_csv(tmp_path / "results.csv", index=False)
    (tmp_path / "metadata.json").write_text("{not json")
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bench: error: {tmp_path / 'metadata.json'}: cannot be read (") and err.count("\n") == 1


def test_figures_for_papers_are_written_as_svg_and_pdf(small_run, tmp_path, capsys):
    assert main(["report", str(small_run[0]), "-o", str(tmp_path / "r.html"), "--figures", str(tmp_path / "figures")]) == 0
    assert sorted(path.name for path in (tmp_path / "figures").iterdir()) == [
        "ms_ssim.pdf", "ms_ssim.svg", "ms_ssim_db.pdf", "ms_ssim_db.svg", "psnr.pdf", "psnr.svg",
    ]
    svg = (tmp_path / "figures" / "psnr.svg").read_text()
    assert ">jpeg<" in svg and ">webp<" in svg and "PSNR [dB], higher is better" in svg
    assert (tmp_path / "figures" / "psnr.pdf").read_bytes().startswith(b"%PDF")


def test_complexity_table_and_decode_time_plot(small_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(small_run[0], run_dir)
    RunDir(run_dir).write_complexity([{
        "codec": "webp", "point": "30", "image": "kodim02.png", "width": 768, "height": 512, "device": "cpu",
        "params_encoder": 2_860_000, "params_decoder": 2_990_000, "kmac_per_pixel_encode": 12.04, "kmac_per_pixel_decode": 13.96,
        "peak_memory_encode_mb": 15.2, "peak_memory_decode_mb": 16.7, "encode_seconds": 0.0881, "decode_seconds": 0.2351,
        "entropy_seconds_encode": 0.0071, "entropy_seconds_decode": 0.0362,
    }])
    text = build_report(run_dir, tmp_path / "report.html", originals=small_run[1]).read_text()
    section = text.split('<section id="complexity">')[1].split("</section>")[0]
    assert re.findall(r'<td class="num">([^<]+)</td>', section) == ["2.86 / 2.99", "12.0 / 14.0", "15 / 17", "0.088 (0.007)", "0.235 (0.036)"]
    figure = json.loads(re.search(r'<script type="application/json" id="plot-decode-time-data">(.*?)</script>', section, re.S).group(1))
    assert [trace["name"] for trace in figure["data"]] == ["jpeg", "webp"] and figure["layout"]["xaxis"]["type"] == "log"


def test_the_report_is_its_list_of_sections_and_the_contents_follow_it(small_run, tmp_path):
    from bench.report.sections import SECTIONS

    chosen = [section for section in SECTIONS if section.id in ("run", "verdict")]
    page = build_report(small_run[0], tmp_path / "report.html", sections=chosen).read_text()
    assert page.count("<section id=") == 2 and page.index('<section id="verdict">') < page.index('<section id="run">')
    contents = page[page.index('<nav class="contents"'):page.index("</nav>")]
    assert contents.splitlines()[1:] == ['<a href="#verdict">Verdict</a>', '<a href="#run">Run</a>']


def test_the_per_image_table_past_its_limit_shows_its_first_rows_and_says_how_many(small_run, tmp_path, monkeypatch):
    from bench.report.sections import per_image

    monkeypatch.setattr(per_image, "PER_IMAGE_ROWS", 5)
    text = build_report(small_run[0], tmp_path / "report.html", originals=small_run[1]).read_text()
    table = text.split('<table id="per-image-table"')[1].split("</table>")[0]
    assert "Show the first 5 of 12 rows, by image (every row is in the run folder's results.csv" in text
    assert table.count("<tr>") == 1 + 5  # the header and the first five rows
    first = sorted(pd.read_csv(small_run[0] / "results.csv")["image"])[0]
    assert f"<td>{html.escape(first)}</td>" in table


def test_an_original_of_another_size_is_left_out_of_the_viewer_with_a_note(small_run, tmp_path):
    # Files of the same names that are not what the run measured (say, the uncropped originals of a run on crops).
    from PIL import Image

    run_dir, originals = small_run
    others = {}
    for name, path in originals.items():
        others[name] = tmp_path / path.name
        Image.open(path).crop((0, 0, 64, 48)).save(others[name])
    text = build_report(run_dir, tmp_path / "report.html", originals=others).read_text()
    assert re.search(r"(\d+) crops, [\d.]+ KiB embedded", text).group(1) == "12"  # the reconstructions alone
    assert "The file found as the original of 2 image(s)" in text and "has another size than the image the run measured" in text
