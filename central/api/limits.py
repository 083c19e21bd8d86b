"""The office's edge against the open network: what a request may be before any route sees it (issue 15).

``RequestLimits`` is a plain ASGI middleware, outermost in ``create_app``. For every HTTP request, in order:

1. A kiosk route (``/v1/...``) on a connection without a TLS client certificate is answered
   ``401 unknown_kiosk`` at once: the body is never read, the kiosk parser never runs.
2. A path or query string holding a NUL (``%00``) is ``400 malformed``.
3. The body limit of the route (``ROUTE_LIMITS``, at most the protocol's 8 MiB): a ``Content-Length`` above it
   is ``413 too_large`` before one byte of the body is read; a body that grows past it while streaming is cut
   off at the limit with the same answer. The body must arrive within ``body_timeout`` seconds (``408``).
4. A JSON body (``application/json``, or any body that starts with ``{`` or ``[``) must be strict JSON: no
   ``NaN``/``Infinity``, no number that overflows a double (``1e400``), no integer beyond +-2^63, no NUL in any
   string or key, at most ``MAX_JSON_DEPTH`` levels of nesting. Otherwise ``422 malformed``, naming the rule.

The checked body is handed to the application unchanged (one buffered copy, as the framework would make).
Every answer here is the protocol's ``ErrorBody``.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

from sync.protocol import ErrorBody, ErrorCode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MiB: Final = 1024 * 1024
MAX_BODY: Final = 8 * MiB
"""The sync protocol's limit for any body (docs/sync-protocol.md, "Transport")."""
ROUTE_LIMITS: Final[tuple[tuple[str, int], ...]] = (
    ("/v1/batches", MAX_BODY),
    ("/v1/audit-segments", 4 * MiB),
    ("/v1/provisional", 1 * MiB),
    ("/v1/", 64 * 1024),  # check-in, voted mark, release, heartbeat, chain close
    ("/api/guardian-shares", MAX_BODY),
    ("/api/", 256 * 1024),
)
"""Body limit by path prefix (first match); any other path: ``DEFAULT_LIMIT``."""
DEFAULT_LIMIT: Final = 16 * 1024
MAX_JSON_DEPTH: Final = 32
"""Deepest nesting of arrays and objects in any body; the deepest message of the protocol has 8 levels."""
INT_RANGE: Final = 2**63


def body_limit(path: str) -> int:
    return next((limit for prefix, limit in ROUTE_LIMITS if path.startswith(prefix)), DEFAULT_LIMIT)


class BadJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise BadJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BadJson(f"the number {text[:40]} overflows")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > 20:
        raise BadJson("an integer out of range")
    value = int(text)
    if not -INT_RANGE <= value < INT_RANGE:
        raise BadJson("an integer out of range")
    return value


def check_json(raw: bytes) -> None:
    """Raise ``BadJson`` naming the first rule the body breaks (see the module docstring, point 4)."""
    try:
        value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except RecursionError:
        raise BadJson(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except BadJson:
        raise
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise BadJson(f"not JSON ({exc})") from None
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise BadJson("a string holds a NUL character")
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise BadJson(f"nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    if "\x00" in key:
                        raise BadJson("a key holds a NUL character")
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


@dataclass(frozen=True)
class Refusal(Exception):
    status: int
    code: ErrorCode
    detail: str


async def _answer(send: Send, refusal: Refusal) -> None:
    body = ErrorBody(error=refusal.code, detail=refusal.detail).model_dump_json().encode()
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _has_client_certificate(scope: Scope) -> bool:
    tls = (scope.get("extensions") or {}).get("tls") or {}
    return bool(tls.get("client_cert_chain"))


class RequestLimits:
    def __init__(self, app: ASGIApp, *, body_timeout: float = 30.0, require_kiosk_certificate: bool = True) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.require_kiosk_certificate = require_kiosk_certificate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._checked_body(scope, receive)
        except Refusal as refusal:
            await _answer(send, refusal)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server's own receive does

        await self.app(scope, replay, send)

    async def _checked_body(self, scope: Scope, receive: Receive) -> bytes:
        path: str = scope.get("path", "")
        if self.require_kiosk_certificate and path.startswith("/v1/") and not _has_client_certificate(scope):
            raise Refusal(401, ErrorCode.UNKNOWN_KIOSK, "a kiosk TLS client certificate is required")
        raw_path: bytes = scope.get("raw_path") or path.encode("utf-8", "surrogateescape")
        query: bytes = scope.get("query_string", b"")
        if "\x00" in path or b"%00" in raw_path or b"\x00" in query or b"%00" in query:
            raise Refusal(400, ErrorCode.MALFORMED, "the path or query holds a NUL character")
        limit = body_limit(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            raise Refusal(413, ErrorCode.TOO_LARGE, f"the body of {path} may be at most {limit} bytes")
        body = await self._read_body(receive, limit, path)
        if body and _is_json(scope, body):
            try:
                check_json(body)
            except BadJson as exc:
                raise Refusal(422, ErrorCode.MALFORMED, f"body: {exc}") from None
        return body

    async def _read_body(self, receive: Receive, limit: int, path: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise Refusal(408, ErrorCode.MALFORMED, f"the body did not arrive within {self.body_timeout:g} s")
            try:
                message = await asyncio.wait_for(receive(), remaining)
            except TimeoutError:
                raise Refusal(
                    408, ErrorCode.MALFORMED, f"the body did not arrive within {self.body_timeout:g} s"
                ) from None
            if message["type"] == "http.disconnect":
                raise Refusal(400, ErrorCode.MALFORMED, "the client went away before the body was complete")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Refusal(413, ErrorCode.TOO_LARGE, f"the body of {path} may be at most {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            if not text.isdigit() or len(text) > 15:
                raise Refusal(400, ErrorCode.MALFORMED, "Content-Length is not a number of bytes")
            return int(text)
    return None


def _is_json(scope: Scope, body: bytes) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            if b"json" in value.lower():
                return True
            break
    return body.lstrip()[:1] in (b"{", b"[")
