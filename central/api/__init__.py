"""The central office's HTTP application (FastAPI): kiosk protocol, staff API, public pages."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError

from central.api.errors import (
    ApiError,
    api_error_handler,
    database_value_error_handler,
    unexpected_error_handler,
    validation_error_handler,
)
from central.api.limits import RequestLimits
from central.api.login_limits import LoginGuard
from central.checker import shutdown_quietly
from central.office import Office


def create_app(office: Office) -> FastAPI:
    from central.api import guardian_routes, kiosk_routes, public_routes, staff_routes
    from central.dashboard import pages

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        guard.flush(office.db, office.clock(), force=True)  # the last window of refused logins
        shutdown_quietly(office.checker)  # the verification worker processes end with the server

    app = FastAPI(title="Sanduq central office", version="1", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.office = office
    guard = LoginGuard()
    app.state.login_guard = guard
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    # A value the database cannot hold (an integer beyond its column, a NUL in text) is the client's error:
    # answered 422 like any malformed field, never 500 (issue 15, point 9).
    app.add_exception_handler(DataError, database_value_error_handler)
    app.add_exception_handler(OverflowError, database_value_error_handler)
    app.add_exception_handler(RecursionError, database_value_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
    app.add_middleware(RequestLimits, body_timeout=office.config.body_timeout)
    app.include_router(kiosk_routes.router)
    app.include_router(staff_routes.router)
    app.include_router(public_routes.router)
    app.include_router(guardian_routes.router)
    app.include_router(pages.router)
    return app
