"""The study's web server: a starlette app, served by uvicorn, that raters' browsers talk to.

Every request is treated as hostile. A rater is known only by the unguessable token of their
link (``/r/<token>``); with it they reach their own sequence, the images of their own trials and
the answer endpoint, nothing else: no results, no exports, no other rater's answers. An unknown
token, an image not in the token's trials or a path that is not a plain file name (``../``, an
absolute path, an encoded slash) gets 404; an answer to a slot not in the token's sequence gets
403; a body that is not a small JSON object of the expected fields gets 400 or 413. An answer is
acknowledged (200) only after :meth:`~bench.study.store.AnswerStore.record` has committed it. Each
response carries a strict Content-Security-Policy (the page's own files only), ``no-store`` and
``no-referrer`` (so the token does not leak in a Referer).

Routes::

    GET  /r/{token}                 the rater's page (bench/study/static/study.html)
    GET  /static/{name}             the page's script and styles
    GET  /api/{token}/session       the rater's slots, which are answered, the question
    GET  /api/{token}/image/{name}  one image of the rater's trials
    POST /api/{token}/answer        {"slot": ..., "choice": "left"|"right", "response_ms": ...}
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.study.design import Slot, Study, load_study
from bench.study.store import AnswerStore

STATIC = Path(__file__).resolve().parent / "static"
#: The page's files, the only ones /static/ serves.
STATIC_FILES = {"study.js": "text/javascript", "study.css": "text/css"}
#: Largest answer body accepted (bytes); an answer is about 80.
MAX_BODY = 4096
IMAGE_NAME = re.compile(r"[0-9a-f]{24}\.png")
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                 b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


class GroupCommit:
    """Answers waiting for their commit. One transaction stores every answer that arrived while the
    previous one was being written (in a worker thread, so that the server goes on reading
    requests); each request is answered only once its own transaction is committed. Under load a
    sync to disk is shared by many answers instead of queueing them one by one."""

    def __init__(self, store: AnswerStore) -> None:
        self.store = store
        self.pending: list[tuple[tuple[Any, ...], asyncio.Future[bool]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def record(self, *answer: Any) -> bool:
        """Store ``answer`` (:meth:`AnswerStore.record`'s arguments); whether it is new."""
        future = asyncio.get_running_loop().create_future()
        self.pending.append((answer, future))
        if self.writer is None:
            self.writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                try:
                    new = await asyncio.to_thread(self.store.record_many, [answer for answer, _ in batch])
                except sqlite3.Error as exc:
                    for _, future in batch:
                        future.set_exception(exc)
                else:
                    for (_, future), is_new in zip(batch, new):
                        future.set_result(is_new)
        finally:
            self.writer = None


class RaterView:
    """One rater's sequence, slots by id and the image files their trials show."""

    def __init__(self, study: Study, index: int, simulated: bool) -> None:
        self.index, self.simulated = index, simulated
        self.slots = study.sequence(index)
        self.by_id = {slot.id: slot for slot in self.slots}
        self.files = {name for slot in self.slots for name in (slot.left_file, slot.right_file, slot.reference_file)}


def make_app(study_dir: str | Path) -> Starlette:
    """The ASGI app serving the study folder ``study_dir``."""
    study = load_study(study_dir)
    store = AnswerStore(study.path)
    commits = GroupCommit(store)
    raters: dict[str, tuple[int, bool]] = {}
    images = study.images
    page = (STATIC / "study.html").read_bytes()

    @lru_cache(maxsize=4096)
    def view(index: int, simulated: bool) -> RaterView:
        return RaterView(study, index, simulated)

    def rater_of(request: Request) -> RaterView | None:
        token = request.path_params["token"]
        # Known tokens are remembered (a rater never changes); unknown ones are looked up each time,
        # since `bench study invite` may add raters while the server runs.
        found = raters.get(token) or store.rater(token)
        if found is None:
            return None
        raters.setdefault(token, found)
        return view(*found)

    async def home(request: Request) -> Response:
        return PlainTextResponse("This is a rating study: open the link you were sent.")

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    async def rater_page(request: Request) -> Response:
        if rater_of(request) is None:
            return _not_found()
        return Response(page, media_type="text/html; charset=utf-8")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            return _not_found()
        return FileResponse(STATIC / name, media_type=STATIC_FILES[name])

    async def session(request: Request) -> Response:
        rater = rater_of(request)
        if rater is None:
            return _not_found()
        answered = store.answered(rater.index)
        token = request.path_params["token"]
        return JSONResponse({
            "question": study.spec["question"],
            "slots": [_slot_json(slot, token, images[slot.image]) for slot in rater.slots],
            "answered": [slot.id for slot in rater.slots if slot.id in answered],
        })

    async def image(request: Request) -> Response:
        rater, name = rater_of(request), request.path_params["name"]
        if rater is None or not IMAGE_NAME.fullmatch(name) or name not in rater.files:
            return _not_found()
        return FileResponse(study.images_dir / name, media_type="image/png")

    async def answer(request: Request) -> Response:
        rater = rater_of(request)
        if rater is None:
            return _not_found()
        body = await _read_body(request)
        if isinstance(body, Response):
            return body
        problem = _answer_problem(body)
        if problem:
            return _error(400, problem)
        slot = rater.by_id.get(body["slot"])
        if slot is None:
            return _error(403, "this slot is not one of this link's trials")
        try:
            new = await commits.record(rater.index, rater.simulated, slot, body["choice"], body.get("response_ms"))
        except sqlite3.Error:
            return _error(503, "the answer could not be stored; send it again")
        return JSONResponse({"stored": True, "duplicate": not new})

    async def server_error(request: Request, exc: Exception) -> Response:
        return _error(500, "internal error")

    app = Starlette(
        routes=[
            Route("/", home), Route("/favicon.ico", favicon), Route("/r/{token}", rater_page), Route("/static/{name}", static),
            Route("/api/{token}/session", session), Route("/api/{token}/image/{name}", image),
            Route("/api/{token}/answer", answer, methods=["POST"]),
        ],
        exception_handlers={404: lambda request, exc: _not_found(), 405: lambda request, exc: _error(405, "method not allowed"),
                            Exception: server_error},
        lifespan=_closing(store),
    )
    app.add_middleware(SecurityHeaders)
    return app


def _closing(store: AnswerStore) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    return lifespan


def serve(study_dir: str | Path, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the study folder with uvicorn until interrupted."""
    import gc
    import uvicorn

    app = make_app(study_dir)
    # The imports (numpy, pandas) leave about a million objects that every full collection would
    # walk: under load that stalled all requests in flight for 100 ms at once (benchmarks/study_load.py).
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)


def _slot_json(slot: Slot, token: str, image: dict[str, Any]) -> dict[str, Any]:
    # Conditions and the slot's kind stay on the server: the rater is blind to what is shown.
    url = f"/api/{token}/image/"
    return {"id": slot.id, "image": slot.image, "width": image["width"], "height": image["height"],
            "reference": url + slot.reference_file, "left": url + slot.left_file, "right": url + slot.right_file}


async def _read_body(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object, or the 4xx response saying why not."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        return _error(413, f"an answer is a JSON object of at most {MAX_BODY} bytes")
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            return _error(413, f"an answer is a JSON object of at most {MAX_BODY} bytes")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error(400, "the body is not JSON")
    return body if isinstance(body, dict) else _error(400, "the body is not a JSON object")


def _answer_problem(body: dict[str, Any]) -> str:
    """Why ``body`` is not an answer, or empty."""
    if not isinstance(body.get("slot"), str):
        return "'slot' must be a string"
    if body.get("choice") not in ("left", "right"):
        return "'choice' must be 'left' or 'right'"
    response_ms = body.get("response_ms")
    if response_ms is not None and (isinstance(response_ms, bool) or not isinstance(response_ms, (int, float))
                                    or not math.isfinite(response_ms) or response_ms < 0):
        return "'response_ms' must be a non-negative number or null"
    return ""


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _not_found() -> Response:
    return _error(404, "not found")
