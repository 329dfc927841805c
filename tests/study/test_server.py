"""The study server over real HTTP (a ``bench study serve`` process): what a token reaches, what
hostile requests get, and that an acknowledged answer is stored before the acknowledgement."""
from __future__ import annotations

import asyncio
import http.client
import json
import sqlite3

import httpx
import pytest

from bench.study.store import ANSWERS_DB, AnswerStore

from study_helpers import Server


@pytest.fixture(scope="module")
def served(make_study):
    """(study, server, [(index, token)] of two raters) with blocks of 6 trials per rater."""
    study = make_study(trials_per_rater=6, repeats=1, golds=1)
    with AnswerStore(study.path) as store:
        raters = store.add_raters(2)
    server = Server(study.path)
    yield study, server, raters
    assert "Traceback" not in server.stop()


def test_a_rater_link_gets_the_page_and_its_own_sequence_without_conditions(served):
    study, server, [(index, token), _] = served
    page = httpx.get(f"{server.url}/r/{token}")
    assert page.status_code == 200 and "<script src=\"/static/study.js\"" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"] and page.headers["referrer-policy"] == "no-referrer"
    session = httpx.get(f"{server.url}/api/{token}/session").json()
    assert [slot["id"] for slot in session["slots"]] == [slot.id for slot in study.sequence(index)]
    assert session["answered"] == [] and session["question"] == study.spec["question"]
    # Blind: nothing in the session names a codec or says which slot is a gold one.
    assert not any(word in httpx.get(f"{server.url}/api/{token}/session").text for word in ("jpeg", "webp", "gold", "damaged"))
    image = httpx.get(server.url + session["slots"][0]["left"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png" and image.content[:4] == b"\x89PNG"


def test_a_token_reaches_only_its_own_trials_and_images(served):
    study, server, [(first, token), (second, other)] = served
    mine, theirs = study.sequence(first), study.sequence(second)
    not_mine = [slot for slot in theirs if slot.id not in {s.id for s in mine}]
    foreign_files = {s.left_file for s in theirs} - {f for s in mine for f in (s.left_file, s.right_file, s.reference_file)}
    assert not_mine and foreign_files
    assert httpx.get(f"{server.url}/api/{token}/image/{sorted(foreign_files)[0]}").status_code == 404
    assert httpx.get(f"{server.url}/api/{other}/image/{sorted(foreign_files)[0]}").status_code == 200
    refused = httpx.post(f"{server.url}/api/{token}/answer", json={"slot": not_mine[0].id, "choice": "left"})
    assert refused.status_code == 403
    for unknown in ("nobody", token[:-1], token + "A"):
        assert httpx.get(f"{server.url}/r/{unknown}").status_code == 404
        assert httpx.get(f"{server.url}/api/{unknown}/session").status_code == 404
        assert httpx.post(f"{server.url}/api/{unknown}/answer", json={"slot": mine[0].id, "choice": "left"}).status_code == 404
    with AnswerStore(study.path) as store:
        assert set(store.answers()["slot"]) <= {slot.id for slot in mine}


@pytest.mark.parametrize("path", [
    "/api/{token}/image/../../study.json", "/api/{token}/image/..%2F..%2Fstudy.json", "/api/{token}/image/%2Fetc%2Fpasswd",
    "/api/{token}/image//etc/passwd", "/api/{token}/image/%2e%2e%2fanswers.sqlite", "/static/../server.py",
    "/static/..%2Fserver.py", "/static/study.html", "/study.json", "/answers.sqlite", "/results/ranking.csv",
    "/api/{token}/results", "/api/{token}/answers", "/images/{file}", "/api/{token}/image/{file}.png",
])
def test_paths_outside_the_tokens_files_get_404(served, path):
    study, server, [(index, token), _] = served
    # http.client sends the path as written (httpx would remove the dot segments first).
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", path.format(token=token, file=study.sequence(index)[0].left_file))
    response = connection.getresponse()
    assert response.status == 404 and json.loads(response.read()) == {"error": "not found"}
    connection.close()


@pytest.mark.parametrize("body, status", [
    (b"not json", 400), (b"[1, 2]", 400), (b'"slot"', 400), (b"{}", 400), (b'{"slot": 3, "choice": "left"}', 400),
    (b'{"slot": "t0001", "choice": "up"}', 400), (b'{"slot": "t0001", "choice": "left", "response_ms": -1}', 400),
    (b'{"slot": "t0001", "choice": "left", "response_ms": "fast"}', 400), (b"\xff\xfe\x00", 400),
    (b'{"slot": "' + b"x" * 5000 + b'"}', 413), (b'{"a": ' * 3000, 413), (b"[" * 2000 + b"]" * 2000, 400),
])
def test_malformed_and_oversized_bodies_get_4xx_without_a_traceback(served, body, status):
    study, server, [(index, token), _] = served
    response = httpx.post(f"{server.url}/api/{token}/answer", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status and set(response.json()) == {"error"}
    assert "Traceback" not in response.text and "File \"" not in response.text
    assert httpx.get(f"{server.url}/api/{token}/session").status_code == 200  # the server is still up


def test_a_duplicate_post_counts_once(served):
    study, server, [_, (index, token)] = served
    slot = study.sequence(index)[0]
    replies = [httpx.post(f"{server.url}/api/{token}/answer", json={"slot": slot.id, "choice": choice, "response_ms": 500})
               for choice in ("right", "right", "left")]
    assert [(r.status_code, r.json()) for r in replies] == [(200, {"stored": True, "duplicate": duplicate}) for duplicate in (False, True, True)]
    assert httpx.get(f"{server.url}/api/{token}/session").json()["answered"] == [slot.id]
    with AnswerStore(study.path) as store:
        answers = store.answers()
    assert answers[["rater", "slot", "choice", "chosen", "response_ms"]].values.tolist() == [[index, slot.id, "right", slot.right, 500.0]]


def test_kill_9_loses_no_acknowledged_answer(make_study, serve):
    study = make_study(repeats=2, golds=2)
    with AnswerStore(study.path) as store:
        raters = store.add_raters(8)
    server = serve(study.path)
    acknowledged: list[tuple[int, str]] = []

    async def rater(client: httpx.AsyncClient, index: int, token: str) -> None:
        for slot in study.sequence(index):
            try:
                reply = await client.post(f"/api/{token}/answer", json={"slot": slot.id, "choice": "left"})
            except httpx.TransportError:
                return
            if reply.status_code == 200 and reply.json()["stored"]:
                acknowledged.append((index, slot.id))

    async def run() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            tasks = [asyncio.create_task(rater(client, index, token)) for index, token in raters]
            while len(acknowledged) < 60:
                await asyncio.sleep(0.002)
            server.kill()
            await asyncio.gather(*tasks)

    asyncio.run(run())
    total = sum(len(study.sequence(index)) for index, _ in raters)
    assert 60 <= len(acknowledged) < total  # killed in the middle
    with sqlite3.connect(study.path / ANSWERS_DB) as db:
        stored = set(db.execute("SELECT rater, slot FROM answers").fetchall())
    assert set(acknowledged) <= stored
