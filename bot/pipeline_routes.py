"""`POST /pipeline`: what happened after qualification, with the intake bearer token."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from bot.http import (
    MAX_BODY,
    MAX_LEADS_PER_REQUEST,
    BodyTooLarge,
    _error,
    _path,
    _read_capped,
    _refuse_without_intake_token,
)
from leadqual.errors import InvalidLead, UnknownLeads
from leadqual.services.context import Context
from leadqual.services.pipeline import record_stages, validate_reports
from leadqual.settings import Settings


def pipeline_router(ctx: Context, settings: Settings) -> APIRouter:
    router = APIRouter()
    token = settings.intake_token.get_secret_value().encode() if settings.intake_token else None

    @router.post(
        "/pipeline",
        summary="Report pipeline stages (opportunity, won, lost) of stored leads",
        responses={
            200: {"description": "Recorded: each report's lead and its current stage"},
            401: {"description": "Missing or wrong bearer token"},
            422: {"description": "Invalid reports or unknown leads (named); nothing was recorded"},
        },
    )
    async def report(request: Request) -> JSONResponse:
        refused = _refuse_without_intake_token(request, token)
        if refused is not None:
            return refused
        try:
            body = await _read_capped(request, MAX_BODY)
        except BodyTooLarge:
            return _error(413, "too_large", f"The body is over {MAX_BODY} bytes.")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            return _unprocessable(
                "invalid_json", [{"loc": ["body"], "msg": f"Body is not valid JSON: {exc}", "type": "json_invalid"}]
            )
        records = data if isinstance(data, list) else [data]
        if not records or len(records) > MAX_LEADS_PER_REQUEST or not all(isinstance(r, dict) for r in records):
            return _unprocessable(
                "invalid_body",
                [
                    {
                        "loc": ["body"],
                        "type": "invalid_body",
                        "msg": f"Send a report object or an array of 1 to {MAX_LEADS_PER_REQUEST} of them",
                    }
                ],
            )
        try:
            reports = validate_reports(records)
            results = await run_in_threadpool(record_stages, ctx, reports)
        except InvalidLead as exc:
            return _unprocessable(
                "invalid_report",
                [
                    {
                        "loc": ["body", *([e["index"]] if isinstance(data, list) else []), *_path(e["loc"])],
                        "msg": e["msg"],
                        "type": e["type"],
                    }
                    for e in exc.errors
                ],
            )
        except UnknownLeads as exc:
            return _unprocessable(
                "unknown_leads",
                [
                    {
                        "loc": [
                            "body",
                            *([i["index"]] if isinstance(data, list) else []),
                            "external_id" if "external_id" in i else "lead_id",
                        ],
                        "msg": f"no stored lead has {'external_id' if 'external_id' in i else 'lead_id'} "
                        f"{i.get('external_id') or i.get('lead_id')!r}",
                        "type": "unknown_lead",
                        **{k: v for k, v in i.items() if k != "index"},
                    }
                    for i in exc.items
                ],
            )
        return JSONResponse(status_code=200, content={"stages": [r.as_json() for r in results]})

    return router


def _unprocessable(error: str, detail: list[dict[str, object]]) -> JSONResponse:
    return JSONResponse(status_code=422, content={"error": error, "detail": detail})
