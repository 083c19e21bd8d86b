"""One error shape for every 4xx/5xx answer: the sync protocol's ``ErrorBody``."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from sync.protocol import ErrorBody, ErrorCode

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def error_response(status: int, code: ErrorCode, detail: str) -> JSONResponse:
    return JSONResponse(ErrorBody(error=code, detail=detail[:1000]).model_dump(mode="json"), status_code=status)


async def api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.detail)


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    loc = tuple(str(p) for p in first.get("loc", ()))
    if "protocol_version" in loc:
        return error_response(400, ErrorCode.UNSUPPORTED_VERSION, "this office speaks sync protocol version 1")
    return error_response(422, ErrorCode.MALFORMED, f"{'.'.join(loc)}: {first.get('msg', 'invalid')}")


async def database_value_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """A value that reached the database but does not fit it (out-of-range integer, NUL in text), or a structure
    too deep for the parser: the request's fault, answered like a malformed field."""
    log.info("refused a value the database cannot hold: %s", type(exc).__name__)
    return error_response(422, ErrorCode.MALFORMED, "a value is out of range or not allowed (integer size, NUL)")


async def unexpected_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged once with its traceback, answered with the protocol's error body (the kiosk retries 5xx)."""
    log.error("unexpected error in a request", exc_info=exc)
    return error_response(500, ErrorCode.INTERNAL, "internal error")


ERRORS = {
    400: {"model": ErrorBody, "description": "malformed request"},
    401: {"model": ErrorBody, "description": "not authenticated"},
    403: {"model": ErrorBody, "description": "not allowed"},
    404: {"model": ErrorBody, "description": "not found"},
    409: {"model": ErrorBody, "description": "conflict"},
    422: {"model": ErrorBody, "description": "malformed request or bad signature"},
}
