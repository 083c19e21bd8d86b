"""One error shape for every 4xx/5xx answer: the sync protocol's ``ErrorBody``."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from sync.protocol import ErrorBody, ErrorCode


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


ERRORS = {
    400: {"model": ErrorBody, "description": "malformed request"},
    401: {"model": ErrorBody, "description": "not authenticated"},
    403: {"model": ErrorBody, "description": "not allowed"},
    404: {"model": ErrorBody, "description": "not found"},
    409: {"model": ErrorBody, "description": "conflict"},
    422: {"model": ErrorBody, "description": "malformed request or bad signature"},
}
