"""The HTTP server: lead intake, health, OpenAPI, and (when configured) Slack's endpoint.

Request bodies are read with a hard size cap before anything is parsed, and all work
that touches the database runs in the thread pool so the event loop stays free.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter
from sqlalchemy import text

from bot import metrics
from bot.crm.routes import crm_router
from bot.http_input import MAX_RECORDS, loc_path, read_records, unprocessable
from leadqual.errors import InvalidLead
from leadqual.lead import Lead
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.settings import Settings

SlackEndpoint = Callable[[Request], Awaitable[Any]]


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
        records = await read_records(request, token, noun="lead")
        if isinstance(records, JSONResponse):
            return records
        try:
            leads = validate_leads(records.items)
        except InvalidLead as exc:
            return unprocessable(
                "invalid_lead",
                [
                    {"loc": records.loc(e["index"], *loc_path(e["loc"])), "msg": e["msg"], "type": e["type"]}
                    for e in exc.errors
                ],
            )
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
                            {"type": "array", "items": lead, "minItems": 1, "maxItems": MAX_RECORDS},
                        ]
                    }
                }
            },
        }
    }


def _database_answers(ctx: Context) -> bool:
    try:
        with ctx.reading() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to reach the database is "not healthy"
        return False
