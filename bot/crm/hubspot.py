"""HubSpot, edge side: the CRM v3 contacts client and the `POST /crm/hubspot` route.

Signature checks, body parsing, mapping and write-back payloads are pure, in
`leadqual.crm.hubspot`; this module does the HTTP.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from bot.crm.results import CrmResult, Delivered, Permanent, classify, network_failure
from bot.http_input import MAX_BODY, BodyTooLarge, loc_path, read_capped
from leadqual.crm import hubspot
from leadqual.crm.config import HubSpotConfig
from leadqual.crm.mapping import field_of
from leadqual.errors import ConfigError, InvalidLead
from leadqual.services import crm_inbound
from leadqual.services.context import Context
from leadqual.services.intake import Ingested, ingest, validate_leads
from leadqual.settings import Settings

log = logging.getLogger(__name__)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_EVENTS = 100  # HubSpot batches at most 100 events per request


class HubSpotClient:
    """CRM v3 contacts: GET one contact, PATCH its properties (Bearer private-app token)."""

    def __init__(self, api_url: str, token: str, *, http: httpx.Client | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._http = http or httpx.Client(timeout=TIMEOUT)

    def get_contact(self, contact_id: str, properties: Iterable[str]) -> CrmResult:
        """GET /crm/v3/objects/contacts/{id}?properties=...; Delivered's body is HubSpot's object."""
        return self._call("GET", contact_id, params={"properties": ",".join(properties)})

    def update_contact(self, contact_id: str, properties: dict[str, str]) -> CrmResult:
        """PATCH /crm/v3/objects/contacts/{id} with {"properties": {...}}."""
        return self._call("PATCH", contact_id, json={"properties": properties})

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, contact_id: str, **kwargs: Any) -> CrmResult:
        url = f"{self.api_url}/crm/v3/objects/contacts/{quote(contact_id, safe='')}"
        try:
            response = self._http.request(method, url, headers={"Authorization": f"Bearer {self._token}"}, **kwargs)
        except httpx.HTTPError as exc:
            return network_failure(exc, crm="HubSpot")
        return classify(response, crm="HubSpot")


def client_from(settings: Settings) -> HubSpotClient | None:
    if settings.hubspot_access_token is None:
        return None
    return HubSpotClient(settings.hubspot_api_url, settings.hubspot_access_token.get_secret_value())


def hubspot_router(ctx: Context, settings: Settings, *, client: HubSpotClient | None = None) -> APIRouter:
    """`POST /crm/hubspot`: 404 until HUBSPOT_CLIENT_SECRET is set; 401 unless signed by HubSpot."""
    router = APIRouter()
    secret = settings.hubspot_client_secret.get_secret_value() if settings.hubspot_client_secret else None
    if secret is not None and settings.public_url is None:
        raise ConfigError(
            "HUBSPOT_CLIENT_SECRET is set but LEADBOT_PUBLIC_URL is not: HubSpot's signature "
            "covers the URL it calls, so set LEADBOT_PUBLIC_URL (https://leads.acme.com)"
        )
    contacts = client if client is not None else client_from(settings)

    @router.post("/crm/hubspot", include_in_schema=False)
    async def receive(request: Request) -> Response:
        if secret is None or settings.public_url is None:
            return JSONResponse(status_code=404, content={"error": "not_found", "message": "HubSpot is not configured"})
        try:
            body = await read_capped(request, MAX_BODY)
        except BodyTooLarge:
            return JSONResponse(status_code=413, content={"error": "too_large", "message": "body over 1 MiB"})
        uri = hubspot.signed_uri(
            settings.public_url,
            request.scope.get("raw_path", b"").decode("latin-1") or request.url.path,
            request.scope.get("query_string", b"").decode("latin-1"),
        )
        why = hubspot.verify_v3(
            secret,
            method=request.method,
            uri=uri,
            body=body,
            signature=request.headers.get(hubspot.SIGNATURE_HEADER),
            timestamp=request.headers.get(hubspot.TIMESTAMP_HEADER),
            now=ctx.now(),
        )
        if why is not None:
            log.warning("POST /crm/hubspot refused: %s (uri %s)", why, uri)
            return JSONResponse(
                status_code=401,
                content={"error": "invalid_signature", "message": "X-HubSpot-Signature-v3 is missing, stale or wrong"},
            )
        try:
            parsed = hubspot.parse_body(_json(body))
            if isinstance(parsed, list):
                return await run_in_threadpool(_take_events, ctx, contacts, parsed)
            return await run_in_threadpool(_take_workflow, ctx, parsed)
        except InvalidLead as exc:
            return JSONResponse(status_code=422, content={"error": "invalid_body", "detail": exc.errors})

    return router


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidLead(
            [{"loc": ["body"], "msg": f"Body is not valid JSON: {exc}", "type": "json_invalid"}]
        ) from None


def _take_workflow(ctx: Context, contact: hubspot.WorkflowContact) -> Response:
    config = ctx.config.crm.hubspot
    record = hubspot.contact_record(contact.object_id, contact.properties, config)
    try:
        [lead] = validate_leads([record])
    except InvalidLead as exc:
        raise InvalidLead([_with_property(e, config) for e in exc.errors]) from None
    [result] = ingest(ctx, [lead], source="hubspot")
    return JSONResponse(status_code=200, content={"leads": [result.as_json()]})


def _take_events(ctx: Context, contacts: HubSpotClient | None, events: list[hubspot.WebhookEvent]) -> Response:
    """Fetch and store the contacts that events create; every fetch succeeds before anything is stored."""
    if len(events) > MAX_EVENTS:
        raise InvalidLead([{"loc": ["body"], "msg": f"At most {MAX_EVENTS} events per request", "type": "too_many"}])
    config = ctx.config.crm.hubspot
    wanted = [e for e in events if e.creates_contact]
    seen = crm_inbound.seen_events(ctx, "hubspot", [e.event_id for e in wanted])
    fresh = [e for e in wanted if e.event_id not in seen]
    stored = crm_inbound.stored_leads(ctx, [hubspot.external_id(e.object_id) for e in fresh])
    to_fetch = list(dict.fromkeys(e.object_id for e in fresh if hubspot.external_id(e.object_id) not in stored))
    if to_fetch and contacts is None:
        log.error(
            "HubSpot contact events arrived but HUBSPOT_ACCESS_TOKEN is not set: answering 503 so HubSpot retries"
        )
        return JSONResponse(
            status_code=503, content={"error": "not_configured", "message": "HUBSPOT_ACCESS_TOKEN is not set"}
        )
    records: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for object_id in to_fetch:
        assert contacts is not None
        result = contacts.get_contact(object_id, hubspot.requested_properties(config))
        if isinstance(result, Delivered) and isinstance(result.body, dict):
            properties = result.body.get("properties") or {}
            records.append(hubspot.contact_record(object_id, properties, config))
        elif isinstance(result, Permanent):  # 404: deleted or merged since; retrying cannot help
            log.warning("HubSpot contact %s skipped: %s", object_id, result.error)
            skipped.append({"objectId": object_id, "reason": result.error})
        else:
            error = getattr(result, "error", "unexpected answer")
            log.warning(
                "HubSpot contact %s could not be fetched (%s): answering 503 so HubSpot retries", object_id, error
            )
            return JSONResponse(status_code=503, content={"error": "crm_unavailable", "message": error})
    leads, invalid = _valid(records, config)
    skipped.extend(invalid)
    results: list[Ingested] = ingest(ctx, leads, source="hubspot") if leads else []
    lead_ids = {r.external_id: r.id for r in results} | stored
    crm_inbound.record_events(
        ctx, "hubspot", {e.event_id: lead_ids.get(hubspot.external_id(e.object_id)) for e in fresh}
    )
    return JSONResponse(
        status_code=200,
        content={
            "leads": [r.as_json() for r in results],
            "skipped": skipped,
            "ignored": len(events) - len(wanted),
            "repeated": len(wanted) - len(fresh),
        },
    )


def _valid(records: list[dict[str, Any]], config: HubSpotConfig) -> tuple[list[Any], list[dict[str, str]]]:
    """Validate fetched contacts one by one: one unusable contact must not hold back the others."""
    leads, skipped = [], []
    for record in records:
        try:
            leads.extend(validate_leads([record]))
        except InvalidLead as exc:
            why = "; ".join(
                f"{_with_property(e, config)['property'] or '.'.join(map(str, loc_path(e['loc'])))}: {e['msg']}"
                for e in exc.errors
            )
            log.warning("HubSpot contact %s skipped: not a usable lead (%s)", record.get("external_id"), why)
            skipped.append({"objectId": str(record.get("external_id", "")).removeprefix("hubspot:"), "reason": why})
    return leads, skipped


def _with_property(error: dict[str, Any], config: HubSpotConfig) -> dict[str, Any]:
    return {
        "loc": ["body", *error["loc"]],
        "msg": error["msg"],
        "type": error["type"],
        "property": field_of(config.properties, error["loc"]),
    }
