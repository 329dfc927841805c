"""``bench study``: a pairwise human rating study of a run's reconstructions (:mod:`bench.study`)."""
from __future__ import annotations

import argparse
from pathlib import Path

from bench.errors import BenchError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.commands import HelpFormatter

    parser = subparsers.add_parser(
        "study", help="run a pairwise human rating study of a run's reconstructions", formatter_class=HelpFormatter,
        description="Build a 2AFC study (the original shown, two reconstructions: which is closer?) from a run made with "
        "--save-recon, invite raters, serve it to their browsers, and rank the codecs by Bradley-Terry with bootstrap "
        "intervals over raters and images. The format and the protocol: docs/study.md.\n\n"
        "example:\n  bench study create runs/kodak --out studies/kodak --pairs hific-sparse/lo:hific-dense/lo\n"
        "  bench study invite studies/kodak -n 20 --base-url http://lab-host:8765\n"
        "  bench study serve studies/kodak --host 0.0.0.0 --port 8765\n"
        "  bench study results studies/kodak",
    )
    commands = parser.add_subparsers(dest="study_command", metavar="COMMAND", required=True)

    create = commands.add_parser("create", help="build a study folder from a run folder", formatter_class=HelpFormatter,
                                 description="Trials: each codec's points against every other codec's nearest point "
                                 "(mean bpp within --tolerance), plus --pairs, on each chosen image; gold and repeated trials.")
    create.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a folder `bench run --save-recon --out` wrote")
    create.add_argument("--out", type=Path, required=True, metavar="STUDY_DIR", help="the study folder to make (new or empty)")
    create.add_argument("--pairs", action="append", default=[], metavar="A:B",
                        help="an explicit pair of conditions CODEC/POINT:CODEC/POINT (repeatable), e.g. hific-sparse/lo:hific-dense/lo")
    create.add_argument("--matched", default="all", metavar="CODECS",
                        help="codecs whose points are paired at matched bpp with every other codec: all, none, or CODEC1,CODEC2")
    create.add_argument("--tolerance", type=float, default=0.2, help="largest relative bpp difference of a matched pair")
    create.add_argument("--images", type=int, default=None, metavar="N", help="use the first N images (default: all)")
    create.add_argument("--repeats", type=int, default=4, help="repeated trials per rater (consistency check)")
    create.add_argument("--golds", type=int, default=4, help="gold trials (original against a damaged copy)")
    create.add_argument("--trials-per-rater", type=int, default=None, metavar="N",
                        help="give each rater a block of N trials, blocks rotating over raters (default: every trial)")
    create.add_argument("--seed", type=int, default=0, help="seeds the raters' orders and sides")
    create.add_argument("--originals", type=Path, default=None, metavar="DIR", help="folder with the original images (default: the run's dataset copy)")
    create.set_defaults(func=create_command)

    invite = commands.add_parser("invite", help="print N new rater links", formatter_class=HelpFormatter)
    invite.add_argument("study_dir", type=Path, metavar="STUDY_DIR")
    invite.add_argument("-n", type=int, default=1, help="number of links")
    invite.add_argument("--base-url", default="http://127.0.0.1:8765", help="where raters reach the server")
    invite.set_defaults(func=invite_command)

    serve = commands.add_parser("serve", help="serve the study to raters (uvicorn)", formatter_class=HelpFormatter)
    serve.add_argument("study_dir", type=Path, metavar="STUDY_DIR")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind; 0.0.0.0 to let other machines in")
    serve.add_argument("--port", type=int, default=8765)
    serve.set_defaults(func=serve_command)

    results = commands.add_parser("results", help="rank the conditions from the answers; write CSV tables", formatter_class=HelpFormatter)
    results.add_argument("study_dir", type=Path, metavar="STUDY_DIR")
    results.add_argument("--include-simulated", action="store_true", help="also count simulated raters' answers (labelled, written to results-with-simulated/)")
    results.add_argument("--bootstrap", type=int, default=1000, metavar="B", help="bootstrap resamples")
    results.set_defaults(func=results_command)

    simulate = commands.add_parser("simulate", help="answer a served study with simulated raters over HTTP", formatter_class=HelpFormatter,
                                   description="Simulated raters follow one metric with logistic noise and fail some gold "
                                   "trials; their answers are stored as simulated (see bench/study/simulate.py).")
    simulate.add_argument("study_dir", type=Path, metavar="STUDY_DIR")
    simulate.add_argument("--url", default="http://127.0.0.1:8765", help="the running server")
    simulate.add_argument("--raters", type=int, default=10)
    simulate.add_argument("--metric", default="psnr", help="the metric column the raters follow")
    simulate.add_argument("--sharpness", type=float, default=4.0, help="how closely they follow it (logistic slope per standard deviation)")
    simulate.add_argument("--gold-error", type=float, default=0.1, help="probability of failing a gold trial")
    simulate.add_argument("--careless", type=float, default=0.0, help="share of raters answering by coin toss")
    simulate.add_argument("--think-ms", type=float, default=0.0, help="mean pause before each answer (exponential), in ms")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.set_defaults(func=simulate_command)


def create_command(args: argparse.Namespace) -> int:
    from bench.study.design import create_study, parse_pair

    matched = None if args.matched == "all" else [] if args.matched == "none" else args.matched.split(",")
    study = create_study(args.run_dir, args.out, [parse_pair(text) for text in args.pairs], matched, args.tolerance,
                         args.images, args.repeats, args.golds, args.seed, args.trials_per_rater, args.originals)
    per_rater = len(study.sequence(0))
    print(f"bench: wrote {study.path}: {len(study.spec['conditions'])} conditions, {len(study.spec['settings']['pairs'])} pairs x "
          f"{len(study.spec['images'])} images = {len(study.trials)} trials, {len(study.golds)} gold; {per_rater} slots per rater")
    return 0


def invite_command(args: argparse.Namespace) -> int:
    from bench.study.design import load_study
    from bench.study.store import AnswerStore

    if args.n < 1:
        raise BenchError(f"-n {args.n}: give the number of links to make, 1 or more")
    study = load_study(args.study_dir)
    with AnswerStore(study.path) as store:
        for _, token in store.add_raters(args.n):
            print(f"{args.base_url.rstrip('/')}/r/{token}")
    return 0


def serve_command(args: argparse.Namespace) -> int:
    from bench.study.server import serve

    print(f"bench: serving {args.study_dir} on http://{args.host}:{args.port} (rater links: `bench study invite`); Ctrl-C stops", flush=True)
    serve(args.study_dir, args.host, args.port)
    return 0


def results_command(args: argparse.Namespace) -> int:
    import pandas as pd

    from bench.study.analysis import results_of, write_results

    results = results_of(args.study_dir, args.include_simulated, args.bootstrap)
    folder = write_results(args.study_dir, results)
    label = "SIMULATED + human answers" if results.simulated else "human answers"
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.float_format", "{:.3f}".format):
        print(f"Bradley-Terry ranking ({results.n_answers} {label}, 95 % bootstrap intervals over raters and images):")
        print(results.ranking.to_string(index=False))
        print("\nPairs (rate_b: share of answers choosing b):")
        print(results.pairs.to_string(index=False))
        print("\nMetric agreement with people:")
        print(results.agreement.to_string(index=False))
    excluded = results.raters[results.raters["excluded"]]
    print(f"\nRaters: {len(results.raters)}, excluded {len(excluded)}" +
          "".join(f"\n  rater {row.rater}: {row.reason}" for row in excluded.itertuples()))
    print("\n" + "\n".join(results.verdicts + results.notes))
    print(f"bench: wrote {folder}/ranking.csv, pairs.csv, raters.csv, agreement.csv")
    return 0


def simulate_command(args: argparse.Namespace) -> int:
    from bench.study.simulate import simulate

    done = simulate(args.study_dir, args.url, args.raters, args.metric, seed=args.seed, sharpness=args.sharpness,
                    gold_error=args.gold_error, careless=args.careless, think_ms=args.think_ms)
    print(f"bench: {done.raters} simulated raters stored {done.stored} answers ({done.duplicates} duplicates, {len(done.failed)} failed)")
    if done.failed:
        raise BenchError(f"{len(done.failed)} answers were not stored, the first: {done.failed[0]}")
    return 0
