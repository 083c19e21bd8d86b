"""The collector's HTTP API (FastAPI): the public routes ``/r1/...`` and, on its own listener requiring the
office's client certificate, ``/internal/v1/void`` (docs/remote-voting.md, section 5).

The edge, before any route: the client's rate limit, the body limit of the route (a ``Content-Length`` above it
is refused before the body is read, a body growing past it is cut off), strict JSON (UTF-8, no key twice, no
NaN/Infinity, at most 32 levels). Every refusal is ``{"error", "detail"}`` with its status; a bug is a 500 with
no detail (and logged), never a traceback to the client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from collector.errors import CollectorError, ErrorCode
from collector.service import Collector

log = logging.getLogger(__name__)

KiB: Final = 1024
BALLOT_BODY_LIMIT: Final = 400 * KiB
BODY_LIMIT: Final = 16 * KiB
MAX_DEPTH: Final = 32

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def body_limit(path: str) -> int:
    return BALLOT_BODY_LIMIT if path == "/r1/ballots" else BODY_LIMIT


class _Refused(Exception):
    def __init__(self, error: CollectorError) -> None:
        self.error = error


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key!r} appears twice in one object")
            seen.add(key)
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any, level: int = 1) -> None:
    if level > MAX_DEPTH:
        raise ValueError(f"more than {MAX_DEPTH} levels of nesting")
    if isinstance(value, dict):
        for item in value.values():
            _depth(item, level + 1)
    elif isinstance(value, list):
        for item in value:
            _depth(item, level + 1)


def parse_json(body: bytes) -> Any:
    """Strict JSON (raises CollectorError bad_request naming the rule)."""
    if len(body) == 0:
        raise CollectorError(ErrorCode.BAD_REQUEST, "the body must be a JSON object")
    try:
        value = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        _depth(value)
    except RecursionError:
        raise CollectorError(ErrorCode.BAD_REQUEST, "not strict JSON: nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise CollectorError(ErrorCode.BAD_REQUEST, f"not strict JSON: {exc}") from None
    return value


def _error_response(error: CollectorError) -> JSONResponse:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(error.body(), status_code=error.code.status, headers=headers)


class Edge:
    """ASGI middleware: client rate limit, then the body limit before the route reads the body."""

    def __init__(self, app: ASGIApp, collector: Collector, *, rate_limited: bool = True) -> None:
        self.app, self.collector, self.rate_limited = app, collector, rate_limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        limit = body_limit(scope.get("path", ""))
        try:
            if self.rate_limited:
                self.collector.limiter.client(address)
            for name, value in scope.get("headers", []):
                if name == b"content-length":
                    try:
                        declared = int(value)
                    except ValueError:
                        raise CollectorError(ErrorCode.BAD_REQUEST, "bad Content-Length") from None
                    if declared > limit:
                        raise CollectorError(ErrorCode.TOO_LARGE, f"the body is limited to {limit} bytes here")
        except CollectorError as error:
            await _error_response(error)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _Refused(CollectorError(ErrorCode.TOO_LARGE, f"the body is limited to {limit} bytes here"))
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except _Refused as refused:
            if not started:
                await _error_response(refused.error)(scope, receive, send)


async def _body(request: Request) -> Any:
    return parse_json(await request.body())


def create_app(collector: Collector) -> ASGIApp:
    """The public API (``/r1/...``)."""
    app = FastAPI(title="Sanduq vote collector", version="r1", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(CollectorError)
    async def _refused(_request: Request, error: CollectorError) -> JSONResponse:
        return _error_response(error)

    @app.exception_handler(_Refused)
    async def _too_large(_request: Request, refused: _Refused) -> JSONResponse:
        return _error_response(refused.error)

    @app.exception_handler(404)
    async def _no_route(_request: Request, _exc: Exception) -> JSONResponse:
        return _error_response(CollectorError(ErrorCode.NOT_FOUND, "no such route"))

    @app.exception_handler(405)
    async def _no_method(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "method_not_allowed", "detail": "this route takes another method"}, 405)

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__)
        return JSONResponse({"error": "internal", "detail": "an internal error; nothing was recorded"}, 500)

    @app.post("/r1/challenge")
    async def challenge(request: Request) -> JSONResponse:
        client = request.client.host if request.client else "unknown"
        body = await _body(request)
        return JSONResponse(await run_in_threadpool(collector.challenge, body, client))

    @app.post("/r1/credentials")
    async def credentials(request: Request) -> JSONResponse:
        body = await _body(request)
        return JSONResponse(await run_in_threadpool(collector.register, body))

    @app.post("/r1/ballots")
    async def ballots(request: Request) -> JSONResponse:
        body = await _body(request)
        return JSONResponse(await run_in_threadpool(collector.submit, body))

    @app.post("/r1/my-votes")
    async def my_votes(request: Request) -> JSONResponse:
        body = await _body(request)
        return JSONResponse(await run_in_threadpool(collector.my_votes, body))

    @app.get("/r1/ballots/{ballot_id}")
    async def fetch(ballot_id: str) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(collector.fetch, ballot_id))

    return Edge(app, collector)


def create_internal_app(collector: Collector) -> ASGIApp:
    """The office's route, served on a listener whose TLS handshake requires the office's client certificate."""
    app = FastAPI(title="Sanduq vote collector (internal)", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(CollectorError)
    async def _refused(_request: Request, error: CollectorError) -> JSONResponse:
        return _error_response(error)

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__)
        return JSONResponse({"error": "internal", "detail": "an internal error; nothing was recorded"}, 500)

    @app.post("/internal/v1/status")
    async def status(request: Request) -> JSONResponse:
        body = await _body(request)
        return JSONResponse(await run_in_threadpool(collector.status, body))

    @app.post("/internal/v1/void")
    async def void(request: Request) -> JSONResponse:
        body = await _body(request)
        return JSONResponse(await run_in_threadpool(collector.void, body))

    return Edge(app, collector, rate_limited=False)
