"""The command line as a user meets it: help, listings, clear one-line errors, plug-in codecs."""
from __future__ import annotations

import math
import subprocess
import textwrap
from pathlib import Path

import pandas as pd

from cli_helpers import bench_command, bench_env, make_plugin, run_bench


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    return lines[0]


def test_unknown_codec_is_one_clear_line(tmp_path):
    line = _one_error_line(run_bench("run", "--codecs", "jpeg,mp3", "--out", str(tmp_path)))
    assert line.startswith("bench: error: unknown codec mp3; known codecs:") and "jpeg" in line


def test_unknown_dataset_is_one_clear_line(tmp_path):
    line = _one_error_line(run_bench("run", "--codecs", "jpeg", "--dataset", "imagenet", "--out", str(tmp_path)))
    assert "unknown dataset 'imagenet'" in line and "kodak" in line


def test_missing_data_directory_is_one_clear_line(tmp_path):
    line = _one_error_line(run_bench("run", "--codecs", "jpeg", "--dataset", "kodak", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run")))
    assert "data directory" in line and "does not exist" in line


def test_unknown_metric_and_bad_settings_are_one_clear_line(tmp_path):
    assert "unknown metric wadiqam" in _one_error_line(run_bench("run", "--codecs", "jpeg", "--metrics", "psnr,wadiqam", "--out", str(tmp_path)))
    assert "expected CODEC=V1,V2" in _one_error_line(run_bench("run", "--codecs", "jpeg", "--settings", "jpeg", "--out", str(tmp_path)))


def test_codecs_lists_each_codec_with_library_and_grid():
    result = run_bench("codecs")
    assert result.returncode == 0
    (jpeg,) = [line for line in result.stdout.splitlines() if line.startswith("jpeg ")]
    import PIL

    assert jpeg.split() == ["jpeg", "pillow", PIL.__version__]
    assert "settings: 2, 5, 10, 20, 35, 50, 70, 85" in result.stdout
    assert "pillow-jxl-plugin" in result.stdout and "pillow-heif" in result.stdout


def test_help_shows_defaults():
    result = run_bench("run", "--help")
    assert "--jobs JOBS" in result.stdout and "(default: psnr,ms_ssim)" in result.stdout


def test_third_party_codec_registers_through_an_entry_point(tmp_path, kodak_dir):
    plugin = make_plugin(tmp_path / "plugin", "identity-codec", "identity_codec", textwrap.dedent('''
        import numpy as np
        from bench.codecs.base import Codec

        class Identity(Codec):
            """Raw pixels with a 4-byte shape header: lossless, 24 bpp plus header."""
            name = "identity"
            library = "identity-codec"
            default_settings = (0,)

            def encode(self, image, setting):
                height, width = image.shape[:2]
                return height.to_bytes(2, "big") + width.to_bytes(2, "big") + image.tobytes()

            def decode(self, bitstream):
                height, width = int.from_bytes(bitstream[:2], "big"), int.from_bytes(bitstream[2:4], "big")
                return np.frombuffer(bitstream[4:], np.uint8).reshape(height, width, 3)
    '''), "[codec_bench.codecs]\nidentity = identity_codec:Identity\n")

    listing = run_bench("codecs", PYTHONPATH=str(plugin))
    assert [line.split() for line in listing.stdout.splitlines() if line.startswith("identity ")] == [["identity", "identity-codec", "1.0"]]

    result = run_bench("run", "--codecs", "identity", "--dataset", "kodak", "--limit", "1", "--out", str(tmp_path / "run"), PYTHONPATH=str(plugin))
    assert result.returncode == 0, result.stderr
    row = pd.read_csv(tmp_path / "run" / "results.csv", dtype={"codec_version": str}).iloc[0]
    assert row["bytes"] == 768 * 512 * 3 + 4 and row["psnr"] == float("inf") and row["codec_version"] == "1.0"


def test_bad_values_are_refused_before_any_work(tmp_path):
    limit = run_bench("run", "--codecs", "jpeg", "--limit", "0", "--out", str(tmp_path))
    assert limit.returncode == 2 and "--limit: 0 is not >= 1" in limit.stderr
    line = _one_error_line(run_bench("run", "--codecs", "jpeg", "--settings", "jpeg=10,1000", "--out", str(tmp_path)))
    assert "jpeg setting 1000 is outside its range 1..100" in line
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder")
    assert "is a file" in _one_error_line(run_bench("run", "--codecs", "jpeg", "--out", str(a_file)))
    assert "not a torch device" in _one_error_line(run_bench("run", "--codecs", "jpeg", "--device", "bogus", "--out", str(tmp_path)))


def test_a_corrupt_results_database_is_one_clear_line(tmp_path):
    (tmp_path / "results.sqlite").write_bytes(b"this is not sqlite" * 100)
    line = _one_error_line(run_bench("run", "--codecs", "jpeg", "--limit", "1", "--out", str(tmp_path)))
    assert "is not a readable results database" in line and "move it away" in line


def test_a_broken_plugin_is_listed_as_unavailable_and_skipped(tmp_path):
    plugin = make_plugin(
        tmp_path / "plugin", "broken-codec", "broken_codec", "import a_library_that_is_not_installed\n",
        "[codec_bench.codecs]\nbroken = broken_codec:Broken\n",
    )

    listing = run_bench("codecs", PYTHONPATH=str(plugin))
    assert listing.returncode == 0
    assert "UNAVAILABLE: broken: cannot load broken_codec:Broken (ModuleNotFoundError" in listing.stdout
    run = run_bench("run", "--codecs", "all", "--settings", "jpeg=50", "--limit", "1", "--out", str(tmp_path / "run"), PYTHONPATH=str(plugin))
    (line,) = [line for line in run.stderr.splitlines() if line.startswith("bench: --codecs all:")]
    assert "cannot run here and are skipped" in line and "broken (cannot load broken_codec:Broken)" in line


def test_codecs_unavailable_for_one_reason_are_listed_as_one_group():
    listing = run_bench("codecs").stdout.splitlines()
    (group,) = [index for index, line in enumerate(listing) if line.startswith("UNAVAILABLE (12 codecs): bmshj2018-factorized, ")]
    assert listing[group + 1].startswith("    bmshj2018-factorized: no weights (e.g. bmshj2018-factorized-prior-1-")
    assert not any("mbt2018-mean: no weights" in line for line in listing)


def test_skipped_codecs_are_summed_up_by_reason_in_one_short_line():
    from bench.api import grouped_reasons

    reasons = {
        "hific": "hific: no HiFiC checkpoint: pass --hific-checkpoint PATH ...",
        "hific-sparse-matrix": "hific-sparse-matrix: no HiFiC checkpoint: pass --hific-checkpoint PATH ...",
        "mbt2018": "mbt2018: no weights (e.g. mbt2018-1-3f36cd77.pth.tar); put the zoo's files in ...",
    }
    assert grouped_reasons(reasons) == "hific, hific-sparse-matrix (no HiFiC checkpoint); mbt2018 (no weights)"


def test_verify_checks_every_row_with_its_reference_decoder_and_keeps_the_bitstreams(tmp_path, kodak_dir):

    images = tmp_path / "images"
    images.mkdir()
    for name in ("kodim03.png", "kodim23.png"):
        (images / name).write_bytes((kodak_dir / name).read_bytes())
    run = ("run", "--codecs", "jpeg,webp", "--settings", "jpeg=20,80", "--settings", "webp=50", "--images", str(images),
           "--metrics", "psnr", "--jobs", "1", "--out", str(tmp_path / "run"))
    first = run_bench(*run)
    assert first.returncode == 0, first.stderr
    assert "reference decoding" not in first.stdout
    table = pd.read_csv(tmp_path / "run" / "results.csv")
    assert "reference_check" not in table and (table["suspect"].isna()).all() and (table["max_abs_error"] > 0).all()

    # On the finished run: every row is measured again for the check it lacks.
    verified = run_bench(*run, "--verify", "--save-bitstreams")
    assert verified.returncode == 0, verified.stderr
    assert "0 already done, 6 to run" in verified.stderr
    lines = verified.stdout.splitlines()
    assert lines[lines.index("bench: reference decoding (--verify):") + 1].split()[:6] == ["jpeg", "checked", "4/4", "worst", "diff", "0"]
    table = pd.read_csv(tmp_path / "run" / "results.csv")
    assert (table["reference_check"] == "ok").all()
    assert set(table["reference_decoder"].str.split().str[0]) == {"djpeg", "dwebp"}
    for row in table.itertuples():
        path = tmp_path / "run" / row.bitstream_path
        assert path.name == Path(row.image).stem + (".jpg" if row.codec == "jpeg" else ".webp")
        assert path.stat().st_size == row.bytes
    assert run_bench(*run, "--verify", "--save-bitstreams").stderr.count("6 already done, 0 to run") == 1


def test_the_run_summary_compares_codecs_at_common_rates_in_aligned_columns():
    from bench.commands.run import summarize
    from bench.metrics.psnr import PSNR

    rows = []
    for codec, offset in (("a", 0.0), ("a-codec-with-a-long-name", 2.0)):
        for image in ("x.png", "y.png"):
            for point, bpp in enumerate((0.2, 0.4, 0.8, 1.6)):
                # PSNR rises 6 dB per doubling of the rate: 30 dB at 0.4 bpp for codec a.
                rows.append({"dataset": "d", "codec": codec, "image": image, "point": str(point), "bpp": bpp,
                             "psnr": 30 + offset + 6 * math.log2(bpp / 0.4), "status": "ok"})
    rows.append({"dataset": "d", "codec": "a", "image": "z.png", "point": "0", "bpp": None, "psnr": None, "status": "error"})
    lines = summarize(pd.DataFrame(rows), list(PSNR.columns)).splitlines()
    assert lines[0].split() == ["codec", "rows", "errors", "median", "bpp", "psnr", "@0.25", "psnr", "@0.5"]
    assert lines[1].split() == ["a", "9", "1", "0.200-1.600", "25.93", "31.93"]
    assert lines[2].split() == ["a-codec-with-a-long-name", "8", "0", "0.200-1.600", "27.93", "33.93"]
    assert len({len(line) for line in lines[:3]}) == 1  # aligned


def test_the_run_summary_gives_a_one_point_codec_its_point():
    from bench.commands.run import summarize
    from bench.metrics.psnr import PSNR

    rows = [{"dataset": "d", "codec": "curve", "image": image, "point": str(point), "bpp": bpp, "psnr": 30 + point, "status": "ok"}
            for image in ("x.png", "y.png") for point, bpp in enumerate((0.2, 0.4, 0.8))]
    rows += [{"dataset": "d", "codec": "mine", "image": "x.png", "point": "lo", "bpp": 0.14, "psnr": 23.0, "status": "ok"},
             {"dataset": "d", "codec": "mine", "image": "y.png", "point": "lo", "bpp": 0.16, "psnr": 24.0, "status": "ok"}]
    lines = summarize(pd.DataFrame(rows), list(PSNR.columns)).splitlines()
    assert lines[2].split()[-2:] == ["-", "-"]  # no curve to read at the common rates ...
    assert lines[3] == "  mine: one operating point (lo), mean 0.150 bpp: psnr 23.5"  # ... so its own point


def test_a_first_run_needs_no_dataset_no_out_and_no_network(tmp_path):
    # No data directory and a cache that holds nothing: the sample images ship with the package.
    result = subprocess.run(
        bench_command("run", "--codecs", "jpeg", "--settings", "jpeg=50", "--metrics", "psnr", "--jobs", "1"),
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env=bench_env(BENCH_DATA_DIR="", BENCH_CACHE_DIR=str(tmp_path / "empty-cache")),
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == "bench: 4 jobs (4 images x 1 codecs), 0 already done, 4 to run"
    table = pd.read_csv(tmp_path / "runs" / "sample" / "results.csv")
    assert sorted(table["image"]) == ["kodim05-crop.png", "kodim15-crop.png", "kodim20-crop.png", "kodim23-crop.png"]
    assert (table["dataset"] == "sample").all() and (table["status"] == "ok").all()
    assert not (tmp_path / "empty-cache").exists()


def test_progress_refreshes_the_time_left_as_slower_jobs_come(capsys):
    from bench.commands.run import Progress

    now = [0.0]
    progress = Progress(clock=lambda: now[0])
    progress.what = "2 images x 3 codecs"
    progress.start(100, 100)
    for seconds in range(1, 21):  # 20 fast jobs in 20 s, then 20 slow ones, 10 s each
        now[0] = float(seconds)
        progress.update([{}])
    for seconds in range(30, 230, 10):
        now[0] = float(seconds)
        progress.update([{}])
    lines = [line for line in capsys.readouterr().err.splitlines() if " left;" in line]
    assert lines[0] == "bench: 15 of 100 jobs done in 15 s, about 1 min left; Ctrl-C stops it, the same command resumes"
    # A minute later the slow jobs show in the estimate: 26 done in 80 s, 74 to go.
    assert lines[1] == "bench: 26 of 100 jobs done in 1 min, about 4 min left; Ctrl-C stops it, the same command resumes"
    assert len(lines) == 4
