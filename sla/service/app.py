"""The ASGI application of ``sla serve`` (FastAPI): routes, authentication,
body limits, and the lifetime of the store and the alert scheduler.

>>> from sla import load_policies
>>> from sla.service.settings import Settings
>>> app = create_app(Settings(load_policies("policies: [{name: all, targets: {first_response: 1h}}]"),
...                           db_url="sqlite:///:memory:"))
>>> sorted(p for p in app.openapi()["paths"])
['/', '/healthz', '/v1/due', '/v1/events', '/v1/tickets/{ticket_id}']
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from sla import __version__
from sla.errors import DurationError, SlaError, TimestampError
from sla.policy.duration import parse_duration_us
from sla.service import status_page
from sla.service.ingest import BodyError
from sla.service.models import Alert, DueAnswer, EventIn, EventsAnswer, Health, Problem, TicketAnswer
from sla.service.queries import join_rows
from sla.service.runtime import BusyError, Service, TooManyEvents
from sla.service.settings import Settings
from sla.timefmt import format_instant, parse_instant

log = logging.getLogger("sla.serve.http")

_bearer = HTTPBearer(auto_error=False, description="the --token of sla serve")
_basic = HTTPBasic(auto_error=False, description="any user name, the --token as password (for browsers)")


class ApiError(SlaError):
    """An error answer: its HTTP status and message."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _json(data: bytes) -> Response:
    return Response(data, media_type="application/json")


def _now(service: Service, now: str | None) -> int:
    if now is None:
        return service.settings.clock()
    try:
        return parse_instant(now)
    except TimestampError as exc:
        raise ApiError(400, f"now: {exc}") from None


class _AnyText(Convertor[str]):
    """A path parameter that is the rest of the path, whatever characters it
    holds: a ticket id may hold a newline (``sla evaluate`` accepts it), and
    the ``path`` convertor's ``.*`` stops at one."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anytext", _AnyText())


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "bad request"},
    401: {"model": Problem, "description": "missing or wrong bearer token"},
}
_EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/EventIn"}}
            },
            "application/x-ndjson": {"schema": {"type": "string", "description": "one event per line"}},
        },
    }
}


class AccessLog:
    """Pure ASGI middleware: one log record per request (method, path,
    status, milliseconds); never headers, bodies or query strings."""

    def __init__(self, app: Callable[..., Awaitable[None]]):
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status[0],
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )


def create_app(settings: Settings, service: Service | None = None) -> FastAPI:
    """The application for ``settings`` (the store opens when it starts, if
    ``service`` was not opened already)."""
    service = service or Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(service.open)
        task = asyncio.create_task(service.scheduler.run()) if service.scheduler else None
        log.info(
            "serving",
            extra={"database": service.db_shown, "webhooks": service.webhooks_shown, "version": __version__},
        )
        try:
            yield
        finally:
            if task is not None and service.scheduler is not None:
                await service.scheduler.stop()
                await task
            await run_in_threadpool(service.close)
            log.info("stopped")

    app = FastAPI(
        title="sla serve",
        version=__version__,
        description="SLA clocks of helpdesk tickets: events in, ticket states and due cycles out, "
        "alerts to webhooks before and at breaches.",
        lifespan=lifespan,
    )
    app.add_middleware(AccessLog)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _problem(exc.status, exc.detail, exc.headers)

    token = settings.token

    def check_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        # compare_digest: the time taken does not tell how much of the token matched.
        if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            raise ApiError(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})

    def check_page(
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    ) -> None:
        if token is None:
            return
        given = bearer.credentials if bearer is not None else basic.password if basic is not None else ""
        if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            raise ApiError(401, "the token is required", {"WWW-Authenticate": 'Basic realm="sla serve"'})

    authorised = [Depends(check_token)]

    @app.post(
        "/v1/events",
        response_model=EventsAnswer,
        responses={
            **_ERRORS,
            413: {"model": Problem, "description": "body over the size limit or with too many events"},
        },
        openapi_extra=_EVENTS_BODY,
        dependencies=authorised,
        summary="Add events (a JSON array or JSON Lines)",
    )
    async def post_events(request: Request) -> Response:
        """Accept events: each is checked on its own; the accepted ones are
        stored, with their tickets' new state, before the answer is sent."""
        limit = settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise ApiError(413, f"the body is over the limit of {limit} bytes; send smaller batches")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"the body is over the limit of {limit} bytes; send smaller batches")
            chunks.append(chunk)
        body = b"".join(chunks)
        try:
            outcome = await run_in_threadpool(
                service.post_events, body, request.headers.get("content-type", "")
            )
        except BodyError as exc:
            raise ApiError(400, str(exc)) from None
        except TooManyEvents as exc:
            raise ApiError(413, str(exc)) from None
        except BusyError as exc:
            raise ApiError(503, str(exc), {"Retry-After": "1"}) from None
        rejected = [{"index": r.index, "ticket_id": r.ticket_id, "error": r.error} for r in outcome.rejected]
        answer = {"accepted": outcome.accepted, "duplicates": outcome.duplicates, "rejected": rejected}
        return _json(orjson.dumps(answer))

    @app.get(
        "/v1/tickets/{ticket_id:anytext}",
        response_model=TicketAnswer,
        responses={**_ERRORS, 404: {"model": Problem, "description": "no event of this ticket was accepted"}},
        dependencies=authorised,
        summary="A ticket's cycles at now",
    )
    def get_ticket(ticket_id: str, now: str | None = None) -> Response:
        """The rows ``sla evaluate --format jsonl`` gives for the ticket at
        ``now`` (default: the server's clock)."""
        rows = service.ticket_rows(ticket_id, _now(service, now))
        if rows is None:
            raise ApiError(404, f"no event of ticket {ticket_id!r} was accepted")
        return _json(b'{"ticket_id":' + orjson.dumps(ticket_id) + b',"rows":' + join_rows(rows) + b"}")

    @app.get(
        "/v1/due",
        response_model=DueAnswer,
        responses=_ERRORS,
        dependencies=authorised,
        summary="Open cycles due by now + within",
    )
    def get_due(within: str | None = None, now: str | None = None) -> Response:
        """Every open cycle with a ``due_at`` at or before ``now + within``,
        soonest first (overdue ones included), as evaluate rows."""
        if within is None:
            raise ApiError(400, "within is required: a duration like 2h, 30m or PT4H")
        try:
            span = parse_duration_us(within)
        except DurationError as exc:
            raise ApiError(400, f"within: {exc}") from None
        at = _now(service, now)
        rows = service.due_rows(at, at + span)
        return _json(b'{"now":' + orjson.dumps(format_instant(at)) + b',"rows":' + join_rows(rows) + b"}")

    @app.get("/healthz", response_model=Health, responses={503: {"model": Problem}}, summary="Liveness")
    def healthz() -> Response:
        """200 while the database answers (no token needed)."""
        try:
            version = service.schema_version()
        except Exception as exc:  # any failure of the database is "unhealthy", not a crash
            log.warning("health check failed", extra={"error": type(exc).__name__})
            return _problem(503, "the database does not answer")
        return _json(
            orjson.dumps({"status": "ok", "database": service.db.dialect, "schema_version": version})
        )

    @app.get("/", response_class=HTMLResponse, dependencies=[Depends(check_page)], summary="Status page")
    def status(within: str = "4h") -> HTMLResponse:
        """Counts and the cycles due soon, as a page for a browser (with a
        token set: any user name, the token as password)."""
        try:
            span = parse_duration_us(within)
        except DurationError as exc:
            raise ApiError(400, f"within: {exc}") from None
        now = settings.clock()
        figures = service.counts(now)
        due = service.due_rows(now, now + span, limit=200)
        return HTMLResponse(status_page.render(now, figures, due, within))

    # The event model documents the request body (parsed by hand: JSON Lines
    # too), the alert model the webhooks' body.
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {}).setdefault("schemas", {})["EventIn"] = (
                EventIn.model_json_schema(ref_template="#/components/schemas/{model}")
            )
            schema["components"]["schemas"]["Alert"] = Alert.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
