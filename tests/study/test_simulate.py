"""End to end over HTTP: simulated raters who follow a metric answer a served study, and the
analysis recovers what they followed."""
from __future__ import annotations

import numpy as np
import pytest

from bench.study.analysis import bradley_terry, results_of
from bench.study.design import StudyError
from bench.study.simulate import Follower, simulate
from bench.study.store import AnswerStore

RATERS, CARELESS, SHARPNESS = 20, 0.2, 1.0


def built_ranking(study, metric: str, sharpness: float) -> list[str]:
    """The ranking the simulated raters are built from: Bradley-Terry of their expected choices."""
    scores = bradley_terry(Follower(study, metric, sharpness=sharpness).expected_wins(study))
    return [study.spec["conditions"][k]["id"] for k in np.argsort(-scores, kind="stable")]


def simulated_results(make_study, serve, metric: str, raters: int, sharpness: float, **design):
    study = make_study(repeats=3, golds=8, **design)
    server = serve(study.path)
    done = simulate(study.path, server.url, raters, metric, seed=1, sharpness=sharpness, careless=CARELESS)
    assert (done.stored, done.duplicates, done.failed) == (raters * len(study.sequence(0)), 0, [])
    return study, results_of(study.path, include_simulated=True, n_boot=200)


def test_raters_following_psnr_give_back_its_ranking_and_the_careless_are_screened_out(make_study, serve):
    # A chain of conditions 3 dB or more apart in mean PSNR, so that a study of this size can order them.
    chain = [("jpeg/5", "jpeg/20"), ("jpeg/20", "jpeg/60"), ("jpeg/60", "webp/70")]
    study, results = simulated_results(make_study, serve, "psnr", RATERS, 2 * SHARPNESS, pairs=chain, matched=[])
    assert [c["id"] for c in study.spec["conditions"]] == ["jpeg/5", "jpeg/20", "jpeg/60", "webp/70"]
    assert results.ranking["condition"].tolist() == built_ranking(study, "psnr", 2 * SHARPNESS)
    agreement = results.agreement.set_index("metric")
    assert agreement.loc["psnr", "agreement"] == agreement["agreement"].max()
    assert agreement.loc["psnr", "kendall_tau"] == pytest.approx(1.0)

    raters = results.raters.set_index("rater")
    assert raters["excluded"].equals((raters["gold_accuracy"] < 0.75) | (raters["repeat_consistency"] < 0.25))
    careless = raters.index < round(CARELESS * RATERS)
    assert raters.loc[careless, "excluded"].all() and raters.loc[~careless, "excluded"].mean() < 0.25
    assert results.notes[-1].startswith("Includes SIMULATED") and results.verdicts[0].startswith("Raters (simulated ones included)")

    # Stored as simulated: the human results refuse them.
    with AnswerStore(study.path) as store:
        assert store.answers().empty and store.answers(include_simulated=True)["simulated"].eq(1).all()
    with pytest.raises(StudyError, match="no human"):
        results_of(study.path)


def test_raters_following_niqe_agree_with_niqe_more_than_with_psnr(make_study, serve):
    # On this run NIQE prefers a different side from PSNR on some pairs (webp/30 against jpeg/20 on kodim01).
    # NIQE's differences are small next to its spread: raters who follow it need a steeper slope and more of them.
    _, results = simulated_results(make_study, serve, "niqe", 2 * RATERS, 4 * SHARPNESS)
    agreement = results.agreement.set_index("metric")
    assert agreement.loc["niqe", "agreement"] == agreement["agreement"].max() > agreement.loc["psnr", "agreement"]
    assert agreement.loc["niqe", "kendall_tau"] > agreement.loc["psnr", "kendall_tau"]


def test_simulating_against_no_server_says_to_start_one(make_study):
    import socket

    study = make_study()
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(StudyError, match=r"did not answer.*bench study serve"):
        simulate(study.path, url, 2, "psnr")
