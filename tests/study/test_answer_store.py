"""The answers database: tokens kept hashed, one answer per rater and slot, simulated answers apart."""
from __future__ import annotations

import sqlite3

from bench.study.store import ANSWERS_DB, AnswerStore


def test_a_slot_answered_twice_counts_once_and_keeps_the_first_answer(make_study):
    study = make_study()
    with AnswerStore(study.path) as store:
        [(rater, token)] = store.add_raters(1)
        slot = study.sequence(rater)[0]
        assert store.record(rater, False, slot, "left", 800.0) is True
        assert store.record(rater, False, slot, "right", 900.0) is False
        answers = store.answers()
        assert store.rater(token) == (rater, False) and store.rater(token + "x") is None
    assert len(answers) == 1 and answers.loc[0, "choice"] == "left" and answers.loc[0, "chosen"] == slot.left


def test_tokens_are_stored_only_as_hashes_and_simulated_raters_are_marked(make_study):
    study = make_study()
    with AnswerStore(study.path) as store:
        tokens = [token for _, token in store.add_raters(3)]
        [(simulated, _)] = store.add_raters(1, simulated=True)
        store.record(simulated, True, study.sequence(simulated)[0], "right", None)
        assert store.answers().empty and len(store.answers(include_simulated=True)) == 1
        assert store.n_raters() == {False: 3, True: 1}
    data = b"".join(path.read_bytes() for path in study.path.glob(ANSWERS_DB + "*"))
    assert len(set(tokens)) == 3 and all(len(token) >= 32 and token.encode() not in data for token in tokens)
    with sqlite3.connect(study.path / ANSWERS_DB) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT id, simulated FROM raters ORDER BY id").fetchall() == [(0, 0), (1, 0), (2, 0), (3, 1)]
