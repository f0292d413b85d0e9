"""HubSpot, edge side: the CRM client (batch reads, associations, PATCH) and the `POST /crm/hubspot` route.

Signature checks, body parsing, mapping and write-back payloads are pure, in
`leadqual.crm.hubspot`; this module does the HTTP.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
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
MAX_ASSOCIATION_PAGES = 20  # pages of contacts read for one delivery's deals before giving up on the rest


class HubSpotClient:
    """CRM v3 batch reads of contacts and deals, the v4 associations batch read, and the PATCH of a
    contact (Bearer private-app token). A 207 (some ids not found) is Delivered, like a 200."""

    def __init__(self, api_url: str, token: str, *, http: httpx.Client | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._http = http or httpx.Client(timeout=TIMEOUT)

    def read_batch(self, objects: str, ids: Sequence[str], properties: Iterable[str]) -> CrmResult:
        """POST /crm/v3/objects/{objects}/batch/read with `{"properties": [...], "inputs": [{"id": ...}]}`."""
        if len(ids) > hubspot.MAX_BATCH:
            raise ValueError(f"HubSpot reads at most {hubspot.MAX_BATCH} {objects} per batch, not {len(ids)}")
        body = {"properties": list(properties), "inputs": [{"id": str(i)} for i in ids]}
        return self._call("POST", f"/crm/v3/objects/{objects}/batch/read", json=body)

    def read_associations(self, from_objects: str, to_objects: str, inputs: Sequence[Mapping[str, str]]) -> CrmResult:
        """POST /crm/v4/associations/{from}/{to}/batch/read with `{"inputs": [{"id": ..., "after"?: ...}]}`."""
        if len(inputs) > hubspot.MAX_BATCH:
            raise ValueError(f"HubSpot reads the associations of at most {hubspot.MAX_BATCH} objects per batch")
        path = f"/crm/v4/associations/{from_objects}/{to_objects}/batch/read"
        return self._call("POST", path, json={"inputs": [dict(i) for i in inputs]})

    def update_contact(self, contact_id: str, properties: dict[str, str]) -> CrmResult:
        """PATCH /crm/v3/objects/contacts/{id} with {"properties": {...}}."""
        path = f"/crm/v3/objects/contacts/{quote(contact_id, safe='')}"
        return self._call("PATCH", path, json={"properties": properties})

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> CrmResult:
        try:
            response = self._http.request(
                method, self.api_url + path, headers={"Authorization": f"Bearer {self._token}"}, **kwargs
            )
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
    if to_fetch:
        assert client is not None
        read = _read(client, "contacts", to_fetch, [*hubspot.requested_properties(config), hubspot.MERGED_IDS])
        if isinstance(read, Response):
            return read
        for object_id in to_fetch:
            if object_id in read.found:
                records.append(hubspot.contact_record(object_id, read.found[object_id].get("properties") or {}, config))
            else:  # deleted or never there (OBJECT_NOT_FOUND): retrying cannot help
                skipped.append(_skip("contact", object_id, read.missing[object_id]))
    reports: list[StageReport] = []
    deal_ids = list(dict.fromkeys(e.object_id for e in deal_events))
    if deal_ids:
        assert client is not None
        fetched = _read_deals(client, deal_ids)
        if isinstance(fetched, Response):
            return fetched
        found, contacts_of, missing = fetched
        for deal_id in deal_ids:
            if deal_id not in found:
                skipped.append(_skip("deal", deal_id, missing[deal_id]))
                continue
            occurred = max(e.occurred_at or 0 for e in deal_events if e.object_id == deal_id)
            at = datetime.fromtimestamp(occurred / 1000, UTC) if occurred else ctx.now()
            made = deals.deal_reports(found[deal_id], contacts_of.get(deal_id, []), config.deals, occurred_at=at)
            if not made:
                log.warning("HubSpot deal %s has no associated contact: no lead to record its stage for", deal_id)
            reports.extend(made)
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


def _read(client: HubSpotClient, objects: str, ids: list[str], properties: list[str]) -> hubspot.BatchRead | Response:
    """Batch-read `ids` (100 a call): what HubSpot found and, with its reason, what it says is not there."""
    found: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for start in range(0, len(ids), hubspot.MAX_BATCH):
        chunk = ids[start : start + hubspot.MAX_BATCH]
        result = client.read_batch(objects, chunk, properties)
        if isinstance(result, Delivered) and isinstance(result.body, dict):
            read = hubspot.batch_read(result.body, chunk, objects.removesuffix("s"))
            found |= read.found
            missing |= read.missing
        elif isinstance(result, Permanent):  # another 4xx: retrying the delivery cannot help either
            missing |= dict.fromkeys(chunk, result.error)
        else:
            return _unavailable(objects, chunk, result)
    return hubspot.BatchRead(found, missing)


def _read_deals(
    client: HubSpotClient, deal_ids: list[str]
) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, str]] | Response:
    """The deals (one batch read) and their contacts' ids (one v4 associations batch read, and its pages)."""
    read = _read(client, "deals", deal_ids, [*deals.DEAL_PROPERTIES, hubspot.MERGED_IDS])
    if isinstance(read, Response):
        return read
    found, missing = dict(read.found), dict(read.missing)
    canonical = {deal_id: str(deal.get("id") or deal_id) for deal_id, deal in found.items()}  # merged deals
    contacts: dict[str, list[str]] = {}
    pending = [{"id": i} for i in dict.fromkeys(canonical.values())]
    for _page in range(MAX_ASSOCIATION_PAGES):
        following: list[dict[str, str]] = []
        for start in range(0, len(pending), hubspot.MAX_BATCH):
            chunk = pending[start : start + hubspot.MAX_BATCH]
            result = client.read_associations("deals", "contacts", chunk)
            if isinstance(result, Delivered) and isinstance(result.body, dict):
                for deal_id, ids in hubspot.associated_ids(result.body).items():
                    known = contacts.setdefault(deal_id, [])
                    known.extend(i for i in ids if i not in known)
                following.extend(hubspot.association_pages(result.body))
            elif isinstance(result, Permanent):  # a 4xx (a missing scope): as a deal HubSpot will not give
                for deal_id in [d for d, c in canonical.items() if c in {i["id"] for i in chunk}]:
                    missing[deal_id] = result.error
                    found.pop(deal_id, None)
            else:
                return _unavailable("deal associations", [i["id"] for i in chunk], result)
        if not following:
            break
        pending = following
    else:
        log.warning("HubSpot deals with over %d pages of contacts: the rest are not read", MAX_ASSOCIATION_PAGES)
    return found, {deal_id: contacts.get(canonical[deal_id], []) for deal_id in found}, missing


def _skip(kind: str, object_id: str, reason: str) -> dict[str, str]:
    log.warning("HubSpot %s %s skipped: %s", kind, object_id, reason)
    return {"objectId": object_id, "reason": reason}


def _unavailable(kind: str, object_ids: list[str], result: CrmResult) -> Response:
    error = getattr(result, "error", "unexpected answer")
    shown = ", ".join(object_ids[:5]) + (f" and {len(object_ids) - 5} more" if len(object_ids) > 5 else "")
    log.warning("HubSpot %s %s could not be read (%s): answering 503 so HubSpot retries", kind, shown, error)
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
