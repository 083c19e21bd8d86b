"""The central office's HTTP application (FastAPI): kiosk protocol, staff API, public pages."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from central.api.errors import ApiError, api_error_handler, validation_error_handler
from central.crypto import shutdown_quietly
from central.office import Office


def create_app(office: Office) -> FastAPI:
    from central.api import guardian_routes, kiosk_routes, public_routes, staff_routes
    from central.dashboard import pages

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        shutdown_quietly(office.checker)  # the verification worker processes end with the server

    app = FastAPI(title="Sanduq central office", version="1", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.office = office
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.include_router(kiosk_routes.router)
    app.include_router(staff_routes.router)
    app.include_router(public_routes.router)
    app.include_router(guardian_routes.router)
    app.include_router(pages.router)
    return app
