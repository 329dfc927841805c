"""``bench report`` and ``bench compare``: the command-line faces of :mod:`bench.report`."""
from __future__ import annotations

import argparse
from pathlib import Path

from bench.errors import BenchError

VIA_HELP = ("for codecs with one operating point per image (one checkpoint each): also compare their gaps to this "
            "codec's curve at their own bpp, a matched-bpp difference read off its curve (repeatable, or CODEC1,CODEC2: "
            "one reading per curve)")


def add_report_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.commands import HelpFormatter

    parser = subparsers.add_parser(
        "report", help="write a self-contained HTML report of a run", formatter_class=HelpFormatter,
        description="Write one HTML file (no network needed to open it): a verdict per metric (codecs ranked by "
        "BD-rate against an anchor, the best codec at a low, middle and high rate), interactive RD curves, "
        "one BD-rate matrix (codecs x metrics), matched-bpp comparisons, the checks (reference decoding, "
        "suspicious rows), an image viewer (runs made with --save-recon), published reference points, "
        "the per-image table and the run's metadata.\n\n"
        "example:\n  bench report runs/kodak -o reports/kodak.html --anchor jpeg --compare jpeg:webp",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the folder `bench run --out` wrote")
    parser.add_argument("-o", "--output", type=Path, required=True, help="HTML file to write, or an existing folder to write FOLDER/report.html in")
    parser.add_argument("--anchor", default="jpeg", help="codec the BD-rate tables are computed against")
    parser.add_argument("--compare", action="append", default=[], metavar="A:B[,A2:B2,...]",
                        help="compare codec B against codec A with bootstrap intervals (repeatable); several pairs "
                        "joined by commas (one per training seed, say) form one grouped comparison with the spread between pairs")
    parser.add_argument("--via", action="append", default=[], metavar="CODEC", help=VIA_HELP)
    parser.add_argument("--originals", type=Path, default=None, metavar="DIR", help="folder with the original images, for the viewer (default: the run's dataset copy)")
    parser.add_argument("--published", type=Path, default=None, metavar="DIR", help="folder of published numbers (default: baselines/published of this checkout)")
    parser.add_argument("--viewer-images", type=int, default=24, metavar="N", help="at most N images in the viewer")
    parser.add_argument("--figures", type=Path, default=None, metavar="DIR", help="also write each rate-distortion plot as <metric>.svg and <metric>.pdf into DIR (matplotlib, for papers)")
    parser.add_argument("--study", type=Path, default=None, metavar="STUDY_DIR",
                        help="add a \"Human preference\" section from this rating study (`bench study`), after the comparisons")
    parser.set_defaults(func=report_command)


def add_compare_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.commands import HelpFormatter

    parser = subparsers.add_parser(
        "compare", help="compare two codecs of a run at matched bpp, in the terminal", formatter_class=HelpFormatter,
        description="Print BD-rate, BD-metric and matched-bpp differences of codec B against codec A, with 95 % "
        "bootstrap intervals over images, and a verdict in plain words. With several pairs (the same two recipes "
        "trained with several seeds, say), each pair's differences side by side, their mean with a Student-t "
        "interval over the pairs, their range, and which differences exceed the spread between pairs.\n\n"
        "examples:\n  bench compare runs/kodak hific-dense:hific-sparse\n"
        "  bench compare runs/lo dense-s0:sparse-s0 dense-s1:sparse-s1 dense-s2:sparse-s2 --via hevc,dense-family",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the folder `bench run --out` wrote")
    parser.add_argument("pairs", nargs="+", metavar="A:B", help="two codec names; several pairs: a grouped comparison")
    parser.add_argument("--bpp", default=None, metavar="B1,B2,...", help="bpp points for the matched rows (default: three inside both ranges)")
    parser.add_argument("--via", action="append", default=[], metavar="CODEC", help=VIA_HELP)
    parser.set_defaults(func=compare_command)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Both commands, for ``bench.cli.COMMAND_MODULES``."""
    add_report_parser(subparsers)
    add_compare_parser(subparsers)


def _pair(text: str) -> tuple[str, str]:
    from bench.report.html import parse_pair

    try:
        return parse_pair(text)
    except ValueError as exc:
        raise BenchError(str(exc)) from None


def _vias(values: list[str]) -> list[str]:
    return [name for value in values for name in value.split(",") if name]


def _sections(study: Path | None) -> list:
    """The report's sections, with the study's "Human preference" after the comparisons."""
    from bench.report.sections import SECTIONS

    if study is None:
        return SECTIONS
    from bench.report.sections import comparisons
    from bench.study.design import load_study
    from bench.study.report import human_preference_section

    load_study(study)  # a folder that is not a study: one line now, not a failure mid-report
    at = SECTIONS.index(comparisons.SECTION) + 1
    return [*SECTIONS[:at], human_preference_section(study), *SECTIONS[at:]]


def report_command(args: argparse.Namespace) -> int:
    from bench.report.html import build_report
    from bench.report.rundata import RunDirError

    groups = [[_pair(text) for text in value.split(",")] for value in args.compare]
    try:
        output = build_report(
            args.run_dir, args.output, args.anchor, groups, args.originals, args.published, args.viewer_images, args.figures,
            _vias(args.via), _sections(args.study),
        )
    except (RunDirError, ValueError) as exc:
        raise BenchError(str(exc)) from None
    print(f"bench: wrote {output} ({output.stat().st_size / 1024:.0f} KiB)")
    return 0


def compare_command(args: argparse.Namespace) -> int:
    import pandas as pd

    from bench.report.grouped import tabulate
    from bench.report.rundata import RunDirError, load_run

    pairs = [_pair(text) for text in args.pairs]
    try:
        points = [float(value) for value in args.bpp.split(",")] if args.bpp else None
    except ValueError:
        raise BenchError(f"--bpp {args.bpp!r}: expected numbers such as 0.1,0.2") from None
    try:
        shown = tabulate(load_run(args.run_dir), pairs, points, _vias(args.via))
    except (RunDirError, ValueError) as exc:
        raise BenchError(str(exc)) from None
    with pd.option_context("display.width", 250, "display.max_colwidth", 80, "display.max_columns", None):
        print(shown.table.to_string(index=False))
    print()
    print("\n".join([*shown.legend, "", shown.verdict] if shown.legend else [shown.verdict]))
    return 0
