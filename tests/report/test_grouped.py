"""A comparison over several pairs (one per training seed): each pair's differences, and the
pairs as the unit, on synthetic curves with known shifts and on a small real run."""
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bench.cli import main
from bench.core.rundir import RunDir
from bench.metrics.psnr import PSNR
from bench.report.grouped import compare_pairs, grouped_table, grouped_verdict, t_interval
from bench.report.rundata import RunData, quantities_of

N_IMAGES = 16
SETTINGS = np.arange(1, 7)


def paired_run(shifts: list[float], seed: int = 3) -> RunData:
    """For each pair i: codec ``dense-i`` with PSNR = 30 + 4 log2(bpp) + a per-image offset, and
    ``sparse-i`` with the same bpp and PSNR raised by ``shifts[i]`` plus per-image noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(N_IMAGES):
        base_bpp = 0.08 * 2.0 ** (SETTINGS * 0.8) * rng.uniform(0.8, 1.2)
        offset = rng.normal(0, 2)
        for pair, shift in enumerate(shifts):
            noise = rng.normal(0, 0.1)
            for setting, bpp in zip(SETTINGS, base_bpp):
                psnr = 30 + 4 * np.log2(bpp) + offset
                common = {"image": f"img{index:02d}.png", "point": str(setting), "bpp": bpp}
                rows.append({**common, "codec": f"dense-{pair}", "psnr": psnr})
                rows.append({**common, "codec": f"sparse-{pair}", "psnr": psnr + shift + noise})
    results = pd.DataFrame(rows).assign(dataset="synthetic", status="ok")
    return RunData(RunDir("synthetic"), results, {}, None, quantities_of(PSNR.columns))


def pairs_of(shifts: list[float]) -> list[tuple[str, str]]:
    return [(f"dense-{pair}", f"sparse-{pair}") for pair in range(len(shifts))]


def write_run(run: RunData, folder) -> None:
    """``run`` as a run folder that ``bench compare`` reads."""
    run.results.assign(setting=run.results["point"], width=8, height=8, bytes=1, error="").to_csv(
        folder / "results.csv", index=False)
    RunDir(folder).write_metric_columns(PSNR.columns)


def spread_of(grouped, kind: str):
    (spread,) = [s for s in grouped.spreads if s.quantity.column == "psnr" and s.kind == kind]
    return spread


def test_the_interval_over_pairs_is_scipys_student_t_interval():
    values = [0.42, 0.61, 0.50]
    estimate = t_interval(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert estimate.mean == pytest.approx(0.51) and (estimate.low, estimate.high) == pytest.approx((low, high))
    assert t_interval([0.3]).n_images == 1 and np.isnan(t_interval([0.3]).low)


def test_consistent_shifts_exceed_the_spread_between_pairs():
    shifts = [0.5, 0.6, 0.55]
    grouped = compare_pairs(paired_run(shifts), pairs_of(shifts))
    spread = spread_of(grouped, "BD-metric")
    # Each pair's own estimate finds its own shift; the pairs' mean is the mean shift.
    for estimate, shift in zip(spread.per_pair, shifts):
        assert estimate.low <= shift <= estimate.high
    assert spread.across.mean == pytest.approx(np.mean([e.mean for e in spread.per_pair]))
    assert spread.across.mean == pytest.approx(0.55, abs=0.05)
    assert spread.exceeds_spread and spread.minimum < spread.maximum
    text = grouped_verdict(grouped)
    assert "Beyond the spread between pairs: PSNR (BD-rate), B needs fewer bits: -" in text
    assert "PSNR (BD-metric), B is better: +0.5" in text
    # Every pair is measured at the same bpp points.
    assert all(comparison.bpp_points == grouped.bpp_points for comparison in grouped.comparisons)


def test_pairs_that_disagree_in_sign_are_said_to():
    shifts = [0.5, -0.5, 0.1]
    grouped = compare_pairs(paired_run(shifts), pairs_of(shifts))
    spread = spread_of(grouped, "BD-metric")
    assert spread.signs == {1, -1} and not spread.exceeds_spread
    assert spread.significant_pairs == 3
    assert re.search(r"Pairs disagree in sign: .*PSNR \(BD-metric\): pairs from -0.(49|5)\d* to \+0.(49|5)\d* dB", grouped_verdict(grouped))


def test_same_sign_with_a_wide_spread_stays_within_it():
    shifts = [0.2, 1.5, 0.4]
    grouped = compare_pairs(paired_run(shifts), pairs_of(shifts))
    spread = spread_of(grouped, "BD-metric")
    assert spread.signs == {1} and not spread.exceeds_spread and spread.significant_pairs == 3
    assert re.search(r"Same sign in every pair, but within the spread between pairs: .*PSNR \(BD-metric\), B is better "
                     r"in all 3 pairs \(3 with an interval over images that excludes 0\): \+0.(69|7)\d* dB \[-", grouped_verdict(grouped))
    table = grouped_table(grouped)
    assert list(table.columns[:5]) == ["metric", "measure", "pair 1", "pair 2", "pair 3"]
    row = table[(table["metric"] == "PSNR") & (table["measure"] == "BD-metric")].iloc[0]
    assert row["beyond pair spread"] == "no" and re.fullmatch(r"\+0.(19|2)\d* \.\. \+1.5\d*", row["range"])


def test_one_pair_is_not_a_group():
    with pytest.raises(ValueError, match="at least two pairs"):
        compare_pairs(paired_run([0.1]), pairs_of([0.1]))


def test_compare_command_with_several_pairs_prints_the_legend_and_the_verdict(small_run, capsys):
    # webp:jpeg is jpeg:webp reversed: the two pairs must disagree in sign on every measure.
    assert main(["compare", str(small_run[0]), "jpeg:webp", "webp:jpeg"]) == 0
    out = capsys.readouterr().out
    assert "pair 1: webp - jpeg" in out and "pair 2: jpeg - webp" in out
    assert "Over 2 pairs" in out and "Pairs disagree in sign: PSNR (BD-rate)" in out


def test_the_report_shows_a_grouped_comparison(small_run, tmp_path):
    from bench.report.html import build_report

    text = build_report(small_run[0], tmp_path / "report.html", groups=[[("jpeg", "webp"), ("webp", "jpeg")]],
                        originals=small_run[1], viewer_images=0).read_text()
    assert "2 pairs: webp against jpeg, jpeg against webp" in text
    assert "<li>pair 1: webp - jpeg</li>" in text and "beyond pair spread" in text


def test_single_point_pairs_are_grouped_where_each_stands():
    shifts = [-0.3, -0.35, -0.25]
    run = paired_run(shifts)
    run.results = run.results[run.results["point"] == "3"]
    grouped = compare_pairs(run, pairs_of(shifts))
    assert {spread.kind for spread in grouped.spreads} == {"at own points"}
    bits = next(spread for spread in grouped.spreads if spread.quantity.column == "bpp")
    assert bits.across.mean == pytest.approx(0.0) and bits.minimum == bits.maximum == 0.0
    psnr = spread_of(grouped, "at own points")
    assert psnr.across.mean == pytest.approx(-0.3, abs=0.05) and psnr.exceeds_spread
    assert "Beyond the spread between pairs: PSNR (at own points), B is worse: -0.3" in grouped_verdict(grouped)


def test_single_point_pairs_read_against_an_anchor_curve_with_bench_compare(tmp_path, capsys):
    shifts = [-0.3, -0.35, -0.25]
    run = paired_run(shifts)
    anchor = run.results[run.results["codec"] == "dense-0"].assign(codec="anchor")
    run.results = pd.concat([run.results[run.results["point"] == "3"], anchor], ignore_index=True)
    grouped = compare_pairs(run, pairs_of(shifts), via="anchor")
    gap = spread_of(grouped, "gap to anchor at own bpp")
    # Same bpp within each pair: the gap difference is the pair's own PSNR difference.
    own = spread_of(grouped, "at own points")
    assert gap.per_pair[0].mean == pytest.approx(own.per_pair[0].mean)
    assert "PSNR (gap to anchor at own bpp), B is worse: -0.3" in grouped_verdict(grouped)
    # The same through the command line, on the run written to disk.
    write_run(run, tmp_path)
    assert main(["compare", str(tmp_path), *[f"{a}:{b}" for a, b in pairs_of(shifts)], "--via", "anchor"]) == 0
    assert "PSNR (gap to anchor at own bpp), B is worse: -0.3" in capsys.readouterr().out


def test_grouped_readings_against_two_curves_say_where_their_signs_differ(tmp_path, capsys):
    # Each sparse model stands one setting (0.8 doublings of bpp) below its dense twin, 0.3 dB above
    # the dense curve there. Read off the anchor (4 dB per doubling, the dense curve) sparse gains
    # 0.3 dB; off "flat" (1 dB per doubling) it loses 3.2 - 0.8 - 0.3 = 2.1 dB.
    shifts = [0.3, 0.35, 0.25]
    run = paired_run(shifts)
    anchor = run.results[run.results["codec"] == "dense-0"].assign(codec="anchor")
    flat = anchor.assign(codec="flat", psnr=anchor["psnr"] - 3 * np.log2(anchor["bpp"]))
    dense = run.results[run.results["codec"].str.startswith("dense") & (run.results["point"] == "3")]
    sparse = run.results[run.results["codec"].str.startswith("sparse") & (run.results["point"] == "2")]
    run.results = pd.concat([dense, sparse, anchor, flat], ignore_index=True)
    grouped = compare_pairs(run, pairs_of(shifts), via=["anchor", "flat"])
    assert spread_of(grouped, "gap to anchor at own bpp").across.mean == pytest.approx(0.3, abs=0.05)
    assert spread_of(grouped, "gap to flat at own bpp").across.mean == pytest.approx(-2.1, abs=0.05)
    assert re.search(r"The sign of the mean over pairs depends on the curve read against: "
                     r"PSNR \(anchor \+0\.\d+, flat -2\.\d+\)\.", grouped_verdict(grouped))
    write_run(run, tmp_path)
    assert main(["compare", str(tmp_path), *[f"{a}:{b}" for a, b in pairs_of(shifts)], "--via", "anchor,flat"]) == 0
    assert "depends on the curve read against: PSNR (anchor +0." in capsys.readouterr().out


def test_a_reading_that_some_pairs_lack_says_how_many_pairs_it_rests_on():
    # The third pair's sparse model stands below the anchor curve's lowest bpp: no gap to read.
    shifts = [-0.3, -0.35, -0.25]
    run = paired_run(shifts)
    results = run.results
    anchor = results[(results["codec"] == "dense-0") & (results["point"] != "1")].assign(codec="anchor")
    sparse_2 = results[(results["codec"] == "sparse-2") & (results["point"] == "1")]
    run.results = pd.concat([results[(results["point"] == "3") & (results["codec"] != "sparse-2")], sparse_2, anchor],
                            ignore_index=True)
    grouped = compare_pairs(run, pairs_of(shifts), via="anchor")
    gap = spread_of(grouped, "gap to anchor at own bpp")
    assert gap.per_pair[2] is None and gap.across.n_images == 2
    assert re.search(r"PSNR \(gap to anchor at own bpp\)[^:]*: -0\.3\d* dB \[[^]]+\] \(2 of 3 pairs have a value\)",
                     grouped_verdict(grouped))
