"""`POST /pipeline`: what happened after qualification, with the intake bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from bot.http_input import loc_path, read_records, unprocessable
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
        records = await read_records(request, token, noun="report")
        if isinstance(records, JSONResponse):
            return records
        try:
            reports = validate_reports(records.items)
            results = await run_in_threadpool(record_stages, ctx, reports)
        except InvalidLead as exc:
            return unprocessable(
                "invalid_report",
                [
                    {
                        "loc": records.loc(e["index"], *loc_path(e["loc"])),
                        "msg": e["msg"],
                        "type": e["type"],
                    }
                    for e in exc.errors
                ],
            )
        except UnknownLeads as exc:
            return unprocessable(
                "unknown_leads",
                [
                    {
                        "loc": records.loc(i["index"], "external_id" if "external_id" in i else "lead_id"),
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
