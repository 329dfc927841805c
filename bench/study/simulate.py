"""Simulated raters that answer a running study over HTTP, like a browser does.

Each simulated rater follows one metric of the run. On a main or repeated trial it chooses the
side whose metric value (on that image, in the metric's own direction) is better with probability
``1 / (1 + exp(-sharpness * |d| / s))``, where ``d`` is the difference of the two sides' values and
``s`` the median absolute difference over the study's trials: a large difference is
almost always followed, a small one is close to a coin toss. On a gold trial it picks the original
with probability ``1 - gold_error``, so some gold trials fail on purpose. A ``careless`` share of
the raters answers every trial by a coin toss (they should be screened out).

The raters are made in the study's store as *simulated* (the server marks their answers from the
token, not from anything the client says), so results and reports leave them out unless asked.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from bench.study.design import GOLD, ORIGINAL, Slot, Study, StudyError, load_study
from bench.study.store import AnswerStore


@dataclass
class Simulation:
    """What :func:`simulate` posted: answers stored, duplicates, failures and each post's latency."""

    raters: int = 0
    stored: int = 0
    duplicates: int = 0
    #: (rater, slot) of every answer the server acknowledged as stored.
    acknowledged: list[tuple[int, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


class Follower:
    """The choices of raters who follow one metric (see the module's docstring)."""

    def __init__(self, study: Study, metric: str, sharpness: float = 4.0, gold_error: float = 0.1) -> None:
        found = [m for m in study.metrics if m["column"] == metric]
        if not found:
            raise StudyError(f"--metric {metric!r}: not a metric of this study; its metrics: "
                             f"{', '.join(m['column'] for m in study.metrics)}")
        self.sign = 1.0 if found[0]["higher_is_better"] else -1.0
        self.values = {(condition, trial["image"]): value for trial in study.trials
                       for condition, value in zip((trial["a"], trial["b"]), trial["values"].get(metric, [None, None]))}
        gaps = [self.values[(t["b"], t["image"])] - self.values[(t["a"], t["image"])] for t in study.trials
                if self.values.get((t["a"], t["image"])) is not None and self.values.get((t["b"], t["image"])) is not None]
        self.scale = float(np.median(np.abs(gaps))) if gaps else 1.0
        self.scale = self.scale or 1.0
        self.sharpness, self.gold_error = sharpness, gold_error

    def choose(self, slot: Slot, rng: np.random.Generator, careless: bool = False) -> str:
        """"left" or "right" for ``slot``."""
        if careless:
            return "left" if rng.random() < 0.5 else "right"
        if slot.kind == GOLD:
            correct = "left" if slot.left == ORIGINAL else "right"
            wrong = "right" if correct == "left" else "left"
            return wrong if rng.random() < self.gold_error else correct
        return "right" if rng.random() < self.probability(slot.left, slot.right, slot.image) else "left"

    def probability(self, first: str, second: str, image: str) -> float:
        """The probability of choosing condition ``second`` over ``first`` on ``image`` (0.5 without values)."""
        a, b = self.values.get((first, image)), self.values.get((second, image))
        if a is None or b is None:
            return 0.5
        return float(1.0 / (1.0 + np.exp(-self.sharpness * self.sign * (b - a) / self.scale)))

    def expected_wins(self, study: Study) -> np.ndarray:
        """``wins[i, j]``: the expected number of times condition i beats j in one rater's main trials
        (the study's condition order); its Bradley-Terry fit is the ranking these raters are built from."""
        index = {condition["id"]: k for k, condition in enumerate(study.spec["conditions"])}
        wins = np.zeros((len(index), len(index)))
        for trial in study.trials:
            p_b = self.probability(trial["a"], trial["b"], trial["image"])
            wins[index[trial["b"]], index[trial["a"]]] += p_b
            wins[index[trial["a"]], index[trial["b"]]] += 1.0 - p_b
        return wins


async def _rater(url: str, timeout: float, study: Study, token: str, index: int, follower: Follower, careless: bool,
                 seed: int, limit: int | None, think_ms: float, result: Simulation) -> None:
    rng = np.random.default_rng([seed, index])
    # A session (one connection) per rater, as each rater is a browser of their own; sharing one
    # client's pool between all of them made the client, not the server, the bottleneck.
    api = f"{url.rstrip('/')}/api/{token}"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1),
                                     timeout=aiohttp.ClientTimeout(total=timeout)) as client:
        async with client.get(f"{api}/session") as response:
            response.raise_for_status()
            session = await response.json()
        answered = set(session["answered"])
        slots = {slot.id: slot for slot in study.sequence(index)}
        todo = [slot["id"] for slot in session["slots"] if slot["id"] not in answered][:limit]
        for slot_id in todo:
            slot = slots[slot_id]
            if think_ms:
                await asyncio.sleep(rng.exponential(think_ms) / 1000)
            body = {"slot": slot_id, "choice": follower.choose(slot, rng, careless), "response_ms": float(rng.gamma(4.0, 800.0))}
            start = time.perf_counter()
            try:
                async with client.post(f"{api}/answer", json=body) as response:
                    status, text = response.status, await response.text()
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                result.failed.append(f"rater {index} {slot_id}: {exc!r}")
                continue
            result.latencies.append(time.perf_counter() - start)
            reply = json.loads(text) if status == 200 else {}
            if not reply.get("stored"):
                result.failed.append(f"rater {index} {slot_id}: HTTP {status} {text[:200]}")
            elif reply["duplicate"]:
                result.duplicates += 1
            else:
                result.stored += 1
                result.acknowledged.append((index, slot_id))


async def simulate_async(study_dir: str | Path, url: str, n_raters: int, metric: str, seed: int = 0, sharpness: float = 4.0,
                         gold_error: float = 0.1, careless: float = 0.0, answers_per_rater: int | None = None,
                         think_ms: float = 0.0, timeout: float = 30.0) -> Simulation:
    """Make ``n_raters`` simulated raters in the study's store and let them all answer at once over
    HTTP at ``url`` (the running ``bench study serve``); see the module's docstring for their choices.

    Parameters
    ----------
    study_dir : path
        The study folder the server serves.
    url : str
        The server's base URL, e.g. ``http://127.0.0.1:8765``.
    n_raters : int
        Simulated raters to make.
    metric : str
        The metric column they follow.
    seed : int
        Seeds their choices.
    sharpness, gold_error : float
        How closely they follow the metric, how often they fail a gold trial.
    careless : float
        Share of the raters who answer by coin toss (the first ones by index).
    answers_per_rater : int, optional
        Stop each rater after this many answers (default: all of their slots).
    think_ms : float
        Mean of an exponentially distributed pause before each answer, in milliseconds (0: none).
    timeout : float
        Seconds an HTTP request may take.

    Returns
    -------
    Simulation
    """
    study = load_study(study_dir)
    follower = Follower(study, metric, sharpness, gold_error)
    with AnswerStore(study.path) as store:
        raters = store.add_raters(n_raters, simulated=True)
    n_careless = int(round(careless * n_raters))
    result = Simulation(raters=n_raters)
    await asyncio.gather(*[_rater(url, timeout, study, token, index, follower, k < n_careless, seed, answers_per_rater,
                                  think_ms, result)
                           for k, (index, token) in enumerate(raters)])
    return result


def simulate(study_dir: str | Path, url: str, n_raters: int, metric: str, **options: Any) -> Simulation:
    """:func:`simulate_async`, run to completion."""
    try:
        return asyncio.run(simulate_async(study_dir, url, n_raters, metric, **options))
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise StudyError(f"{url}: the study server did not answer ({exc}); start it with `bench study serve {study_dir}`") from None
