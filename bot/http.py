"""The HTTP server: lead intake, health, OpenAPI, and (when configured) Slack's endpoint.

Request bodies are read with a hard size cap before anything is parsed, and all work
that touches the database runs in the thread pool so the event loop stays free.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter
from sqlalchemy import text

from bot import metrics
from leadqual.errors import InvalidLead
from leadqual.lead import Lead
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.settings import Settings

MAX_BODY = 1024 * 1024  # 1 MiB (DESIGN.md)
MAX_LEADS_PER_REQUEST = 1000

SlackEndpoint = Callable[[Request], Awaitable[Any]]


class BodyTooLarge(Exception):
    pass


def create_http_app(ctx: Context, settings: Settings, *, slack_endpoint: SlackEndpoint | None = None) -> FastAPI:
    """The FastAPI app `leadbot serve` runs; `slack_endpoint` handles POST /slack/events."""
    app = FastAPI(title="Leadbot intake API", version="1", docs_url=None, redoc_url=None)
    token = settings.intake_token.get_secret_value().encode() if settings.intake_token else None

    @app.post(
        "/leads",
        status_code=202,
        summary="Submit one lead or a list of leads",
        openapi_extra=_intake_openapi(),
        responses={
            202: {"description": "Accepted: each lead's id, scores, group and whether it was a duplicate"},
            401: {"description": "Missing or wrong bearer token"},
            413: {"description": "Body over 1 MiB"},
            422: {"description": "Invalid lead(s): field-level errors; nothing was stored"},
        },
    )
    async def submit_leads(request: Request) -> JSONResponse:
        refused = _refuse_without_intake_token(request, token)
        if refused is not None:
            return refused
        try:
            body = await _read_capped(request, MAX_BODY)
        except BodyTooLarge:
            return _error(413, "too_large", f"The body is over {MAX_BODY} bytes; send fewer leads per request.")
        try:
            data = json.loads(body)
        # RecursionError: a body nested thousands of levels deep ("[[[[...") exhausts the parser's
        # stack; it is a bad body (422), not a server error.
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            return JSONResponse(
                status_code=422,
                content={
                    "error": "invalid_json",
                    "detail": [{"loc": ["body"], "msg": f"Body is not valid JSON: {exc}", "type": "json_invalid"}],
                },
            )
        records = data if isinstance(data, list) else [data]
        if not records or not all(isinstance(r, dict) for r in records):
            return JSONResponse(
                status_code=422,
                content={
                    "error": "invalid_body",
                    "detail": [
                        {
                            "loc": ["body"],
                            "msg": "Send a lead object or a non-empty array of lead objects",
                            "type": "invalid_body",
                        }
                    ],
                },
            )
        if len(records) > MAX_LEADS_PER_REQUEST:
            return JSONResponse(
                status_code=422,
                content={
                    "error": "too_many",
                    "detail": [
                        {
                            "loc": ["body"],
                            "msg": f"At most {MAX_LEADS_PER_REQUEST} leads per request",
                            "type": "too_many",
                        }
                    ],
                },
            )
        try:
            leads = validate_leads(records)
        except InvalidLead as exc:
            detail = [
                {
                    "loc": ["body", *([e["index"]] if isinstance(data, list) else []), *_path(e["loc"])],
                    "msg": e["msg"],
                    "type": e["type"],
                }
                for e in exc.errors
            ]
            return JSONResponse(status_code=422, content={"error": "invalid_lead", "detail": detail})
        results = await run_in_threadpool(ingest, ctx, leads)
        metrics.ingested(results, via="api")
        return JSONResponse(status_code=202, content={"leads": [r.as_json() for r in results]})

    @app.get("/healthz", summary="Database reachability")
    async def healthz() -> JSONResponse:
        ok = await run_in_threadpool(_database_answers, ctx)
        return JSONResponse(status_code=200 if ok else 503, content={"ok": ok})

    scraped = metrics.registry(ctx)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        body = await run_in_threadpool(metrics.render, scraped)  # reads the database: off the event loop
        return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)

    from bot.crm.routes import crm_router  # imported here: those routes reuse this module's body helpers

    app.include_router(crm_router(ctx, settings))

    if slack_endpoint is not None:
        app.add_api_route("/slack/events", slack_endpoint, methods=["POST"], include_in_schema=False)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            defs = TypeAdapter(Lead).json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(defs.pop("$defs", {}))
            components["Lead"] = defs
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _intake_openapi() -> dict[str, Any]:
    lead = {"$ref": "#/components/schemas/Lead"}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            lead,
                            {"type": "array", "items": lead, "minItems": 1, "maxItems": MAX_LEADS_PER_REQUEST},
                        ]
                    }
                }
            },
        }
    }


def _refuse_without_intake_token(request: Request, token: bytes | None) -> JSONResponse | None:
    """The 401 for a request without `Authorization: Bearer $LEADBOT_INTAKE_TOKEN` (None: it has it)."""
    if token is not None and _bearer_ok(request.headers.get("authorization"), token):
        return None
    return _error(
        401,
        "unauthorized",
        "Send `Authorization: Bearer <LEADBOT_INTAKE_TOKEN>`"
        + ("" if token else " (intake is disabled until LEADBOT_INTAKE_TOKEN is set)"),
        headers={"WWW-Authenticate": "Bearer"},
    )


def _bearer_ok(header: str | None, token: bytes) -> bool:
    if not header or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), token)


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "message": message}, headers=headers)


def _database_answers(ctx: Context) -> bool:
    try:
        with ctx.reading() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to reach the database is "not healthy"
        return False


def _path(loc: object) -> list[object]:
    """A pydantic error location (a tuple of keys and indexes) as a list."""
    return list(loc) if isinstance(loc, list | tuple) else [loc]
