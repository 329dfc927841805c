"""How many raters and images give what interval width: a simulation table for planning a study.

Simulated raters (``bench.study.simulate.Follower``: they follow PSNR with logistic noise, slope
``--sharpness``, and fail 10 % of gold trials) answer every slot of a study of synthetic images x
JPEG at five qualities, every pair of the five conditions (benchmarks/study_common.py). Their
answers go straight to :func:`bench.study.analysis.analyse` (no HTTP here; the server's path is
tested in tests/study/). For each number of raters and images the table prints the median width
of the 95 % bootstrap interval (raters and images resampled) of a pair's preference rate and of a
condition's Bradley-Terry score, averaged over ``--repeats`` simulated studies.

    PYTHONPATH=. python benchmarks/study_intervals.py [--raters 5,10,20,40] [--images 4,8]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from study_common import small_study


def simulated_answers(study, follower, raters: int, seed: int) -> pd.DataFrame:
    """Every slot of ``raters`` raters answered by ``follower``, as the store's answers table."""
    rows = []
    for index in range(raters):
        rng = np.random.default_rng([seed, index])
        for slot in study.sequence(index):
            choice = follower.choose(slot, rng)
            rows.append({"rater": index, "slot": slot.id, "trial": slot.trial, "kind": slot.kind, "image": slot.image,
                         "left_condition": slot.left, "right_condition": slot.right, "choice": choice,
                         "chosen": slot.left if choice == "left" else slot.right, "response_ms": None,
                         "answered_at": "", "simulated": 1})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", default="5,10,20,40")
    parser.add_argument("--images", default="4,8")
    parser.add_argument("--sharpness", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=300)
    args = parser.parse_args()

    from bench.study.analysis import analyse
    from bench.study.simulate import Follower

    table = []
    for images in [int(n) for n in args.images.split(",")]:
        with tempfile.TemporaryDirectory() as folder:
            study = small_study(Path(folder), images=images)
            follower = Follower(study, "psnr", sharpness=args.sharpness)
            for raters in [int(n) for n in args.raters.split(",")]:
                rate, score = [], []
                for seed in range(args.repeats):
                    results = analyse(study, simulated_answers(study, follower, raters, seed), include_simulated=True,
                                      n_boot=args.bootstrap, seed=seed)
                    rate.append((results.pairs["rate_b_high"] - results.pairs["rate_b_low"]).median())
                    score.append((results.ranking["score_high"] - results.ranking["score_low"]).median())
                table.append({"images": images, "raters": raters, "answers per pair": raters * images,
                              "slots per rater": len(study.sequence(0)),
                              "rate interval width": np.mean(rate), "BT score interval width": np.mean(score)})
    print(f"Median 95 % interval widths (raters following PSNR, sharpness {args.sharpness}; {args.repeats} studies each):")
    print(pd.DataFrame(table).to_string(index=False, float_format="{:.2f}".format))


if __name__ == "__main__":
    main()
