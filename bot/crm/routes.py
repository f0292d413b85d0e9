"""The CRM-facing HTTP routes, assembled for `bot.http.create_http_app`."""

from __future__ import annotations

from fastapi import APIRouter

from bot.crm.hubspot import hubspot_router
from bot.crm.salesforce import salesforce_router
from bot.pipeline_routes import pipeline_router
from leadqual.services.context import Context
from leadqual.settings import Settings


def crm_router(ctx: Context, settings: Settings) -> APIRouter:
    """`POST /crm/hubspot`, `POST /crm/salesforce` and `POST /pipeline`."""
    router = APIRouter()
    router.include_router(hubspot_router(ctx, settings))
    router.include_router(salesforce_router(ctx, settings))
    router.include_router(pipeline_router(ctx, settings))
    return router
