"""Screening, Bradley-Terry and the per-pair and per-metric tables, on answers made up here."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import log_expit

from bench.study.analysis import analyse, bradley_terry, screen
from bench.study.design import GOLD, MAIN, ORIGINAL, REPEAT, StudyError
from bench.study.store import ANSWER_COLUMNS


def scipy_bradley_terry(wins: np.ndarray) -> np.ndarray:
    """The maximum-likelihood Bradley-Terry log-strengths, mean zero, by direct minimisation."""
    def loss(theta: np.ndarray) -> float:
        return -np.sum(wins * log_expit(theta[:, None] - theta[None, :])) + 1e3 * theta.sum() ** 2

    theta = minimize(loss, np.zeros(len(wins)), method="BFGS", options={"gtol": 1e-10}).x
    return theta - theta.mean()


def test_bradley_terry_matches_the_maximum_likelihood_fit_by_scipy():
    rng = np.random.default_rng(3)
    strengths = np.array([1.5, 0.5, 0.0, -0.7, -1.3])
    wins = np.zeros((5, 5))
    for i in range(5):
        for j in range(i + 1, 5):
            p = 1 / (1 + np.exp(strengths[j] - strengths[i]))
            wins[i, j] = rng.binomial(40, p)
            wins[j, i] = 40 - wins[i, j]
    reference = scipy_bradley_terry(wins)
    np.testing.assert_allclose(bradley_terry(wins, alpha=0.0), reference, atol=1e-6)
    # The default regularisation (for conditions that always win) moves scores by under 0.01 at 40 answers a pair.
    regularised = bradley_terry(wins)
    np.testing.assert_allclose(regularised, reference, atol=1e-2)
    assert list(np.argsort(-regularised)) == list(np.argsort(-reference)) == [0, 1, 2, 3, 4]


def answers_table(rows: list[dict]) -> pd.DataFrame:
    base = {"image": "x.png", "response_ms": 500.0, "answered_at": "", "simulated": 0, "left_condition": "a", "right_condition": "b"}
    return pd.DataFrame([base | row for row in rows], columns=ANSWER_COLUMNS)


def test_screening_excludes_raters_failing_gold_or_repeat_consistency():
    rows = []
    for rater, gold_right, repeat_same in [(0, 4, 2), (1, 2, 2), (2, 4, 0), (3, 3, 1)]:
        rows += [{"rater": rater, "slot": f"g{k}", "trial": f"g{k}", "kind": GOLD, "choice": "left",
                  "chosen": ORIGINAL if k < gold_right else "damaged"} for k in range(4)]
        rows += [{"rater": rater, "slot": f"t{k}", "trial": f"t{k}", "kind": MAIN, "choice": "left", "chosen": "a"} for k in range(2)]
        rows += [{"rater": rater, "slot": f"t{k}-r", "trial": f"t{k}", "kind": REPEAT, "choice": "right",
                  "chosen": "a" if k < repeat_same else "b"} for k in range(2)]
    rows.append({"rater": 4, "slot": "t0", "trial": "t0", "kind": MAIN, "choice": "left", "chosen": "a"})
    table = screen(answers_table(rows)).set_index("rater")
    assert table["gold_accuracy"].tolist()[:4] == [1.0, 0.5, 1.0, 0.75]
    assert table["repeat_consistency"].tolist()[:4] == [1.0, 1.0, 0.0, 0.5]
    assert table["excluded"].tolist() == [False, True, True, False, True]
    assert table.loc[1, "reason"] == "gold accuracy 0.50 < 0.75" and table.loc[4, "reason"] == "no gold trial answered"


def test_analyse_counts_kept_raters_main_answers_only(make_study):
    study = make_study(repeats=0, golds=1)
    pairs = [tuple(pair) for pair in study.spec["settings"]["pairs"]]
    rows = []
    for rater in range(3):
        for slot in study.sequence(rater):
            trial = study.trial(slot.trial)
            # Everyone picks each pair's second condition, except on the first pair, where rater 1 picks the first.
            want = trial["a"] if (rater == 1 and (trial["a"], trial["b"]) == pairs[0]) else trial["b"]
            if slot.kind == GOLD:
                want = ORIGINAL if rater < 2 else "damaged"  # rater 2 fails the gold trial: excluded
            rows.append({"rater": rater, "slot": slot.id, "trial": slot.trial, "kind": slot.kind, "image": slot.image,
                         "left_condition": slot.left, "right_condition": slot.right,
                         "choice": "left" if slot.left == want else "right", "chosen": want})
    answers = answers_table(rows)
    results = analyse(study, answers, n_boot=50)
    assert results.excluded == [2]
    n_images = len(study.spec["images"])
    assert results.n_answers == 2 * len(study.trials)
    table = results.pairs.set_index(["a", "b"])
    assert table["answers"].tolist() == [2 * n_images] * len(pairs)
    assert table.loc[pairs[0], "rate_b"] == 0.5 and (table["rate_b"].iloc[1:] == 1.0).all()
    assert results.verdicts[0].startswith(f"No clear preference between {pairs[0][0]} and {pairs[0][1]}: 50% of {2 * n_images} answers")
    assert results.ranking["rank"].tolist() == list(range(1, len(results.ranking) + 1))
    assert (results.ranking["score_low"] <= results.ranking["score"] + 1e-9).all()
    assert (results.ranking["score"] <= results.ranking["score_high"] + 1e-9).all()
    with pytest.raises(StudyError, match="no human"):
        analyse(study, answers.assign(simulated=1))
    assert analyse(study, answers.assign(simulated=1), include_simulated=True, n_boot=10).notes[-1].startswith("Includes SIMULATED")
