"""From a study's answers to rankings: rater screening, Bradley-Terry scores, per-pair rates, metric agreement.

Screening (every rule is applied to a rater's answered slots):

* gold accuracy: the share of gold trials where the rater chose the original; a rater below
  ``min_gold`` (default 0.75) or with no gold trial answered is excluded;
* repeat consistency: the share of repeated trials answered like their first showing (the same
  condition chosen, sides swapped); a rater below ``min_consistency`` (default 0.25) is excluded.
  A rater who always presses the same side scores 0 (the sides are swapped on a repeat); an
  honest rater on hard trials scores about 0.5-0.6, so the threshold is low on purpose.

The kept raters' main trials (not golds, not repeats) are the data. Conditions are scored by the
Bradley-Terry model, fitted by ``choix.ilsr_pairwise_dense`` on the matrix of wins with a small
regularisation (:data:`ALPHA`, so that a condition that always wins keeps a finite score); scores
are log-strengths with mean zero. Every interval is a percentile interval of a bootstrap that
resamples raters and images (both with replacement, an answer weighted by how often its rater
and its image were drawn), so it covers the spread between people and between images.

Per pair of the design: the rate at which the second condition was chosen, its interval and the
number of answers. Per metric of the run: a trial is *human-decided* when the kept raters'
answers to it have a majority; the agreement is the share of decided trials where the metric
(its value on that image, its own direction) prefers the same condition; and Kendall's tau between
the conditions' Bradley-Terry scores and their mean metric values. Simulated answers enter only
when asked (``include_simulated``), and the tables then say so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import choix
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import kendalltau

from bench.study.design import GOLD, MAIN, ORIGINAL, REPEAT, Study, StudyError, load_study
from bench.study.store import AnswerStore

ALPHA = 0.01
LEVEL = 0.95
RESULTS_DIR, SIMULATED_RESULTS_DIR = "results", "results-with-simulated"


@dataclass
class StudyResults:
    """The tables of :func:`analyse`, each also written as CSV by :func:`write_results`."""

    #: One row per condition: score, interval, rank, group (connected part of the design).
    ranking: pd.DataFrame
    #: One row per pair of the design: answers, rate B chosen and its interval.
    pairs: pd.DataFrame
    #: One row per rater: gold and repeat figures, excluded and why.
    raters: pd.DataFrame
    #: One row per metric: decided trials, agreement and its interval, Kendall's tau.
    agreement: pd.DataFrame
    #: One sentence per explicit pair (all pairs when none was explicit).
    verdicts: list[str]
    simulated: bool
    n_answers: int
    notes: list[str] = field(default_factory=list)

    @property
    def excluded(self) -> list[int]:
        return [int(rater) for rater in self.raters.loc[self.raters["excluded"], "rater"]]


def screen(answers: pd.DataFrame, min_gold: float = 0.75, min_consistency: float = 0.25) -> pd.DataFrame:
    """One row per rater of ``answers``: gold accuracy, repeat consistency, whether excluded and why."""
    rows = []
    for rater, own in answers.groupby("rater", sort=True):
        gold = own[own["kind"] == GOLD]
        repeats = own[own["kind"] == REPEAT]
        first = own[own["kind"] == MAIN].set_index("trial")["chosen"]
        repeats = repeats[repeats["trial"].isin(first.index)]
        consistent = (repeats["chosen"].to_numpy() == first.loc[repeats["trial"]].to_numpy()).sum()
        gold_accuracy = (gold["chosen"] == ORIGINAL).mean() if len(gold) else float("nan")
        consistency = consistent / len(repeats) if len(repeats) else float("nan")
        reasons = []
        if not len(gold):
            reasons.append("no gold trial answered")
        elif gold_accuracy < min_gold:
            reasons.append(f"gold accuracy {gold_accuracy:.2f} < {min_gold}")
        if len(repeats) and consistency < min_consistency:
            reasons.append(f"repeat consistency {consistency:.2f} < {min_consistency}")
        rows.append({"rater": int(rater), "simulated": bool(own["simulated"].iloc[0]), "answers": len(own),
                     "gold_answered": len(gold), "gold_accuracy": gold_accuracy, "repeats_answered": len(repeats),
                     "repeat_consistency": consistency, "excluded": bool(reasons), "reason": "; ".join(reasons)})
    columns = ["rater", "simulated", "answers", "gold_answered", "gold_accuracy", "repeats_answered", "repeat_consistency",
               "excluded", "reason"]
    return pd.DataFrame(rows, columns=columns)


def bradley_terry(wins: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Bradley-Terry log-strengths (mean zero) from ``wins[i, j]``, the (weighted) number of times i
    beat j; ``alpha`` regularises (0: the maximum-likelihood fit)."""
    return choix.ilsr_pairwise_dense(np.asarray(wins, dtype=float), alpha=alpha)


def analyse(study: Study, answers: pd.DataFrame, include_simulated: bool = False, n_boot: int = 1000, seed: int = 0,
            min_gold: float = 0.75, min_consistency: float = 0.25) -> StudyResults:
    """Screen the raters of ``answers`` and rank the study's conditions (see the module's docstring).

    Parameters
    ----------
    study : Study
        The study the answers belong to.
    answers : DataFrame
        :meth:`bench.study.store.AnswerStore.answers`.
    include_simulated : bool
        Keep simulated raters' answers (otherwise they are dropped before anything is computed).
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seeds the bootstrap.
    min_gold, min_consistency : float
        The screening thresholds.

    Returns
    -------
    StudyResults
    """
    if not include_simulated:
        answers = answers[~answers["simulated"].astype(bool)]
    raters = screen(answers, min_gold, min_consistency)
    kept = answers[answers["rater"].isin(raters.loc[~raters["excluded"], "rater"]) & (answers["kind"] == MAIN)]
    if kept.empty:
        who = "simulated or human rater" if include_simulated else "human rater"
        left_out = "" if include_simulated else " (simulated answers are left out; --include-simulated shows them)"
        raise StudyError(f"{study.path}: no {who} has answered a trial that counts and passed screening yet; "
                         f"{len(raters)} rater(s) answered, {int(raters['excluded'].sum()) if len(raters) else 0} excluded"
                         f"{left_out}; send the links of `bench study invite`")
    conditions = [condition["id"] for condition in study.spec["conditions"]]
    index = {condition: k for k, condition in enumerate(conditions)}
    trials = {trial["id"]: trial for trial in study.trials}
    trial_ids = sorted(set(kept["trial"]))
    trial_index = {trial: k for k, trial in enumerate(trial_ids)}
    winner = kept["chosen"].map(index).to_numpy()
    loser = np.where(kept["chosen"] == kept["left_condition"], kept["right_condition"], kept["left_condition"])
    loser = pd.Series(loser).map(index).to_numpy()
    rater_codes, rater_ids = pd.factorize(kept["rater"])
    image_codes, image_ids = pd.factorize(kept["image"])
    trial_codes = kept["trial"].map(trial_index).to_numpy()
    pairs = [tuple(pair) for pair in study.spec["settings"]["pairs"]]
    pair_codes = np.array([pairs.index((trials[t]["a"], trials[t]["b"])) for t in kept["trial"]])
    chose_b = kept["chosen"].to_numpy() == np.array([trials[t]["b"] for t in kept["trial"]])
    metrics = study.metrics
    metric_prefers_b = {m["column"]: _metric_prefers_b(m, [trials[t] for t in trial_ids]) for m in metrics}
    metric_means = {m["column"]: _metric_means(m, study, conditions) for m in metrics}

    def statistics(weights: np.ndarray) -> dict[str, np.ndarray]:
        wins = np.zeros((len(conditions), len(conditions)))
        np.add.at(wins, (winner, loser), weights)
        scores = bradley_terry(wins)
        n_pair = np.bincount(pair_codes, weights=weights, minlength=len(pairs))
        b_pair = np.bincount(pair_codes, weights=weights * chose_b, minlength=len(pairs))
        votes_b = np.bincount(trial_codes, weights=weights * chose_b, minlength=len(trial_ids))
        votes = np.bincount(trial_codes, weights=weights, minlength=len(trial_ids))
        human_b = np.where(votes_b * 2 > votes, 1.0, np.where(votes_b * 2 < votes, 0.0, np.nan))
        agreement, tau = [], []
        for m in metrics:
            prefers = metric_prefers_b[m["column"]]
            decided = ~np.isnan(human_b) & ~np.isnan(prefers) & (votes > 0)
            agreement.append((human_b[decided] == prefers[decided]).mean() if decided.any() else np.nan)
            means = metric_means[m["column"]]
            known = ~np.isnan(means)
            tau.append(kendalltau(scores[known], means[known]).statistic if known.sum() > 1 else np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = b_pair / n_pair
        return {"scores": scores, "rate": rate, "agreement": np.array(agreement), "tau": np.array(tau),
                "decided": np.array([np.sum(~np.isnan(human_b) & ~np.isnan(metric_prefers_b[m["column"]])) for m in metrics])}

    point = statistics(np.ones(len(kept)))
    rng = np.random.default_rng(seed)
    draws: dict[str, list[np.ndarray]] = {key: [] for key in point}
    for _ in range(n_boot):
        rater_counts = np.bincount(rng.integers(len(rater_ids), size=len(rater_ids)), minlength=len(rater_ids))
        image_counts = np.bincount(rng.integers(len(image_ids), size=len(image_ids)), minlength=len(image_ids))
        for key, value in statistics(rater_counts[rater_codes] * image_counts[image_codes] * 1.0).items():
            draws[key].append(value)
    low, high = 50 * (1 - LEVEL), 50 * (1 + LEVEL)
    interval = {key: (np.nanpercentile(np.array(values), low, axis=0), np.nanpercentile(np.array(values), high, axis=0))
                for key, values in draws.items()}
    groups = _groups(conditions, pairs)
    ranking = pd.DataFrame({
        "condition": conditions, "codec": [c["codec"] for c in study.spec["conditions"]],
        "point": [c["point"] for c in study.spec["conditions"]], "bpp": [c["bpp"] for c in study.spec["conditions"]],
        "score": point["scores"], "score_low": interval["scores"][0], "score_high": interval["scores"][1],
        "wins": [int((winner == k).sum()) for k in range(len(conditions))],
        "answers": [int(((winner == k) | (loser == k)).sum()) for k in range(len(conditions))], "group": groups,
    }).sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    n_pair = np.bincount(pair_codes, minlength=len(pairs))
    pair_table = pd.DataFrame({"a": [a for a, _ in pairs], "b": [b for _, b in pairs], "answers": n_pair,
                               "rate_b": point["rate"], "rate_b_low": interval["rate"][0], "rate_b_high": interval["rate"][1]})
    agreement = pd.DataFrame({
        "metric": [m["column"] for m in metrics], "label": [m["label"] for m in metrics], "decided_trials": point["decided"].astype(int),
        "agreement": point["agreement"], "agreement_low": interval["agreement"][0], "agreement_high": interval["agreement"][1],
        "kendall_tau": point["tau"], "kendall_tau_low": interval["tau"][0], "kendall_tau_high": interval["tau"][1],
    })
    notes = []
    if len(set(groups)) > 1:
        notes.append(f"The design's pairs connect the conditions in {len(set(groups))} separate groups: scores compare only "
                     "within a group (add --pairs linking them)")
    if include_simulated:
        notes.append("Includes SIMULATED answers (bench study simulate): not a human result.")
    explicit = [tuple(pair) for pair in study.spec["settings"].get("explicit_pairs", [])] or pairs
    verdicts = [_verdict(row, include_simulated) for row in pair_table.itertuples() if (row.a, row.b) in explicit]
    return StudyResults(ranking, pair_table, raters, agreement, verdicts, include_simulated, len(kept), notes)


def _metric_prefers_b(metric: dict[str, Any], trials: list[dict[str, Any]]) -> np.ndarray:
    """Per trial: 1 where the metric prefers condition b, 0 where a, NaN on a tie or a missing value."""
    prefers = []
    for trial in trials:
        a, b = trial["values"].get(metric["column"], [None, None])
        if a is None or b is None or a == b:
            prefers.append(np.nan)
        else:
            prefers.append(float((b > a) == metric["higher_is_better"]))
    return np.array(prefers)


def _metric_means(metric: dict[str, Any], study: Study, conditions: list[str]) -> np.ndarray:
    """Each condition's mean metric value over the study's images, signed so that higher is better."""
    values: dict[tuple[str, str], float] = {}
    for trial in study.trials:
        for condition, value in zip((trial["a"], trial["b"]), trial["values"].get(metric["column"], [None, None])):
            if value is not None:
                values[(condition, trial["image"])] = value
    sign = 1.0 if metric["higher_is_better"] else -1.0
    return np.array([sign * np.mean([v for (c, _), v in values.items() if c == condition]) if any(c == condition for c, _ in values)
                     else np.nan for condition in conditions])


def _groups(conditions: list[str], pairs: list[tuple[str, str]]) -> list[int]:
    index = {condition: k for k, condition in enumerate(conditions)}
    rows, cols = [index[a] for a, _ in pairs], [index[b] for _, b in pairs]
    graph = csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(conditions), len(conditions)))
    return list(connected_components(graph, directed=False)[1] + 1)


def _verdict(row: Any, simulated: bool) -> str:
    share = f"{row.rate_b:.0%} of {row.answers} answers (95 % CI {row.rate_b_low:.0%}-{row.rate_b_high:.0%})"
    who = "Raters (simulated ones included)" if simulated else "People"
    if row.rate_b_low > 0.5:
        return f"{who} preferred {row.b} to {row.a}: {share} chose {row.b}."
    if row.rate_b_high < 0.5:
        return f"{who} preferred {row.a} to {row.b}: {share} chose {row.b}."
    return f"No clear preference between {row.a} and {row.b}: {share} chose {row.b}."


def results_of(study_dir: str | Path, include_simulated: bool = False, n_boot: int = 1000, seed: int = 0) -> StudyResults:
    """:func:`analyse` of the study folder ``study_dir`` and its stored answers."""
    study = load_study(study_dir)
    with AnswerStore(study.path) as store:
        answers = store.answers(include_simulated)
    return analyse(study, answers, include_simulated, n_boot, seed)


def write_results(study_dir: str | Path, results: StudyResults) -> Path:
    """Write the tables as CSV (``results/`` of the study folder, ``results-with-simulated/`` when
    simulated answers are in them); return the folder."""
    folder = Path(study_dir) / (SIMULATED_RESULTS_DIR if results.simulated else RESULTS_DIR)
    folder.mkdir(exist_ok=True)
    for name in ("ranking", "pairs", "raters", "agreement"):
        getattr(results, name).to_csv(folder / f"{name}.csv", index=False)
    return folder
