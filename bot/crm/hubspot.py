"""HubSpot, edge side: the CRM v3 contacts and deals client and the `POST /crm/hubspot` route.

Signature checks, body parsing, mapping and write-back payloads are pure, in
`leadqual.crm.hubspot`; this module does the HTTP.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.crm.results import CrmResult, Delivered, Permanent, classify, network_failure
from bot.http_input import MAX_BODY, BodyTooLarge, loc_path, read_capped
from leadqual.crm import deals, hubspot
from leadqual.crm.config import HubSpotConfig
from leadqual.crm.mapping import field_of
from leadqual.errors import ConfigError, InvalidLead
from leadqual.pipeline import StageReport
from leadqual.services import crm_inbound
from leadqual.services.context import Context
from leadqual.services.intake import Ingested, ingest, validate_leads
from leadqual.services.pipeline import record_known_in
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
        return self._call("GET", "contacts", contact_id, params={"properties": ",".join(properties)})

    def get_deal(self, deal_id: str) -> CrmResult:
        """GET /crm/v3/objects/deals/{id}?properties=dealstage,...&associations=contacts."""
        params = {"properties": ",".join(deals.DEAL_PROPERTIES), "associations": "contacts"}
        return self._call("GET", "deals", deal_id, params=params)

    def update_contact(self, contact_id: str, properties: dict[str, str]) -> CrmResult:
        """PATCH /crm/v3/objects/contacts/{id} with {"properties": {...}}."""
        return self._call("PATCH", "contacts", contact_id, json={"properties": properties})

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, objects: str, object_id: str, **kwargs: Any) -> CrmResult:
        url = f"{self.api_url}/crm/v3/objects/{objects}/{quote(object_id, safe='')}"
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
        except SQLAlchemyError:  # nothing of the delivery was stored (one transaction): HubSpot retries 5xx
            log.exception("POST /crm/hubspot: storing failed; answering 503 so HubSpot retries")
            return JSONResponse(
                status_code=503, content={"error": "unavailable", "message": "Leadbot could not store the delivery"}
            )

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


def _take_events(ctx: Context, client: HubSpotClient | None, events: list[hubspot.WebhookEvent]) -> Response:
    """Fetch what the events name (new contacts, moved deals), then store it all in one transaction.

    Every fetch succeeds before anything is stored; the leads, their cards, the deals' stages
    and the event ids are one transaction, so a crash stores nothing and HubSpot's retry
    does the whole batch again.
    """
    if len(events) > MAX_EVENTS:
        raise InvalidLead([{"loc": ["body"], "msg": f"At most {MAX_EVENTS} events per request", "type": "too_many"}])
    config = ctx.config.crm.hubspot
    wanted = [e for e in events if e.creates_contact or e.moves_deal]
    seen = crm_inbound.seen_events(ctx, "hubspot", [e.event_id for e in wanted])
    fresh = [e for e in wanted if e.event_id not in seen]
    contact_events = [e for e in fresh if e.creates_contact]
    deal_events = [e for e in fresh if e.moves_deal]
    stored = crm_inbound.stored_leads(ctx, [hubspot.external_id(e.object_id) for e in contact_events])
    to_fetch = list(
        dict.fromkeys(e.object_id for e in contact_events if hubspot.external_id(e.object_id) not in stored)
    )
    if (to_fetch or deal_events) and client is None:
        log.error("HubSpot events arrived but HUBSPOT_ACCESS_TOKEN is not set: answering 503 so HubSpot retries")
        return JSONResponse(
            status_code=503, content={"error": "not_configured", "message": "HUBSPOT_ACCESS_TOKEN is not set"}
        )
    records: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for object_id in to_fetch:
        assert client is not None
        result = client.get_contact(object_id, hubspot.requested_properties(config))
        if isinstance(result, Delivered) and isinstance(result.body, dict):
            properties = result.body.get("properties") or {}
            records.append(hubspot.contact_record(object_id, properties, config))
        elif isinstance(result, Permanent):  # 404: deleted or merged since; retrying cannot help
            log.warning("HubSpot contact %s skipped: %s", object_id, result.error)
            skipped.append({"objectId": object_id, "reason": result.error})
        else:
            return _unavailable("contact", object_id, result)
    reports: list[StageReport] = []
    for deal_id in dict.fromkeys(e.object_id for e in deal_events):
        assert client is not None
        result = client.get_deal(deal_id)
        if isinstance(result, Delivered) and isinstance(result.body, dict):
            occurred = max(e.occurred_at or 0 for e in deal_events if e.object_id == deal_id)
            at = datetime.fromtimestamp(occurred / 1000, UTC) if occurred else ctx.now()
            found = deals.deal_reports(result.body, config.deals, occurred_at=at)
            if not found:
                log.warning("HubSpot deal %s has no associated contact: no lead to record its stage for", deal_id)
            reports.extend(found)
        elif isinstance(result, Permanent):
            log.warning("HubSpot deal %s skipped: %s", deal_id, result.error)
            skipped.append({"objectId": deal_id, "reason": result.error})
        else:
            return _unavailable("deal", deal_id, result)
    leads, invalid = _valid(records, config)
    skipped.extend(invalid)
    taken: dict[str, Any] = {}

    def also(session: Session, results: list[Ingested]) -> None:
        lead_ids = {r.external_id: r.id for r in results} | stored
        taken["stages"], taken["unknown"] = record_known_in(session, reports, now=ctx.now(), source="hubspot")
        receipts = {e.event_id: lead_ids.get(hubspot.external_id(e.object_id)) for e in contact_events}
        receipts |= {e.event_id: None for e in deal_events}
        crm_inbound.record_events_in(session, "hubspot", receipts, now=ctx.now())

    if leads:
        results: list[Ingested] = ingest(ctx, leads, source="hubspot", also=also)
    else:
        results = []
        with ctx.transaction() as session:
            also(session, results)
    for report in taken["unknown"]:
        log.warning(
            "HubSpot deal stage %s for %s not recorded: that contact is not a lead in Leadbot",
            report.stage.value,
            report.external_id,
        )
    return JSONResponse(
        status_code=200,
        content={
            "leads": [r.as_json() for r in results],
            "stages": [r.as_json() for r in taken["stages"]],
            "unknown_leads": [r.external_id for r in taken["unknown"]],
            "skipped": skipped,
            "ignored": len(events) - len(wanted),
            "repeated": len(wanted) - len(fresh),
        },
    )


def _unavailable(kind: str, object_id: str, result: CrmResult) -> Response:
    error = getattr(result, "error", "unexpected answer")
    log.warning("HubSpot %s %s could not be fetched (%s): answering 503 so HubSpot retries", kind, object_id, error)
    return JSONResponse(status_code=503, content={"error": "crm_unavailable", "message": error})


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
