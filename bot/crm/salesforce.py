"""Salesforce, edge side: the REST client (PATCH a Lead, client-credentials token) and `POST /crm/salesforce`.

Outbound Message parsing, the Ack and fault envelopes, mapping and write-back fields are
pure, in `leadqual.crm.salesforce`; this module does the HTTP.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from bot.crm.results import CrmResult, Delivered, Unauthorized, classify, error_text, network_failure
from bot.http_input import MAX_BODY, BodyTooLarge, read_capped
from leadqual.crm import deals, salesforce
from leadqual.errors import InvalidLead
from leadqual.pipeline import Stage, StageReport
from leadqual.services import crm_inbound
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.services.pipeline import record_known_in
from leadqual.settings import Settings

log = logging.getLogger(__name__)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# 100 notifications of long Lead descriptions can pass 1 MiB; SOAP is verbose.
MAX_MESSAGE = 8 * MAX_BODY
SOAP = "text/xml; charset=utf-8"


class SalesforceClient:
    """REST API: PATCH /services/data/{version}/sobjects/Lead/{id}, with a bearer token.

    Without SALESFORCE_ACCESS_TOKEN the token comes from the client-credentials flow
    (POST /services/oauth2/token) and is fetched again once when Salesforce answers 401.
    """

    def __init__(
        self,
        instance_url: str,
        *,
        api_version: str,
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        if access_token is None and not (client_id and client_secret):
            raise ValueError("SalesforceClient needs an access token or a client id and secret")
        self.instance_url = instance_url.rstrip("/")
        self.api_version = api_version
        self._token = access_token
        self._credentials = (client_id, client_secret) if client_id and client_secret else None
        self._http = http or httpx.Client(timeout=TIMEOUT)
        self._lock = threading.Lock()

    def update_lead(self, lead_id: str, fields: dict[str, Any]) -> CrmResult:
        """PATCH the Lead's fields; Salesforce answers 204 with no body."""
        url = f"{self.instance_url}/services/data/{self.api_version}/sobjects/Lead/{lead_id}"
        result = self._patch(url, fields)
        if isinstance(result, Unauthorized) and self._credentials is not None:
            with self._lock:
                self._token = None  # expired: the flow issues a new one
            result = self._patch(url, fields)
        return result

    def close(self) -> None:
        self._http.close()

    def _patch(self, url: str, fields: dict[str, Any]) -> CrmResult:
        token = self._access_token()
        if not isinstance(token, str):
            return token
        try:
            response = self._http.patch(url, json=fields, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            return network_failure(exc, crm="Salesforce")
        return classify(response, crm="Salesforce")

    def _access_token(self) -> str | CrmResult:
        with self._lock:
            if self._token is not None:
                return self._token
            assert self._credentials is not None
            client_id, client_secret = self._credentials
            try:
                response = self._http.post(
                    f"{self.instance_url}/services/oauth2/token",
                    data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
                )
            except httpx.HTTPError as exc:
                return network_failure(exc, crm="Salesforce")
            result = classify(response, crm="Salesforce")
            if isinstance(result, Delivered) and isinstance(result.body, dict) and result.body.get("access_token"):
                self._token = str(result.body["access_token"])
                return self._token
            if response.status_code == 400:  # invalid_client & co: the credentials, not the call
                return Unauthorized(f"Salesforce token refused: {error_text(response)}")
            return result


def client_from(settings: Settings) -> SalesforceClient | None:
    if settings.salesforce_instance_url is None:
        return None
    token = settings.salesforce_access_token.get_secret_value() if settings.salesforce_access_token else None
    cid = settings.salesforce_client_id.get_secret_value() if settings.salesforce_client_id else None
    secret = settings.salesforce_client_secret.get_secret_value() if settings.salesforce_client_secret else None
    if token is None and not (cid and secret):
        return None
    return SalesforceClient(
        settings.salesforce_instance_url,
        api_version=settings.salesforce_api_version,
        access_token=token,
        client_id=cid,
        client_secret=secret,
    )


def salesforce_router(ctx: Context, settings: Settings) -> APIRouter:
    """`POST /crm/salesforce`: 404 until SALESFORCE_INSTANCE_URL is set; 403 for another org."""
    router = APIRouter()

    @router.post("/crm/salesforce", include_in_schema=False)
    async def receive(request: Request) -> Response:
        if settings.salesforce_instance_url is None:
            return _fault(404, "Salesforce is not configured (SALESFORCE_INSTANCE_URL)", code="soapenv:Client")
        try:
            body = await read_capped(request, MAX_MESSAGE)
        except BodyTooLarge:
            return _fault(500, f"The message is over {MAX_MESSAGE} bytes")
        try:
            message = salesforce.parse_outbound_message(body)
        except salesforce.MalformedMessage as exc:
            log.warning("POST /crm/salesforce refused: %s", exc)
            return _fault(500, str(exc), code="soapenv:Client")
        expected = settings.salesforce_organization_id
        if expected is None or not salesforce.same_org(message.organization_id, expected):
            log.warning(
                "POST /crm/salesforce refused: OrganizationId %s is not SALESFORCE_ORGANIZATION_ID",
                message.organization_id,
            )
            return _fault(
                403, "OrganizationId does not match this Leadbot's SALESFORCE_ORGANIZATION_ID", code="soapenv:Client"
            )
        try:
            await run_in_threadpool(_store, ctx, message)
        except (salesforce.MalformedMessage, InvalidLead) as exc:
            log.warning("POST /crm/salesforce: nothing stored: %s", exc)
            return _fault(500, str(exc), code="soapenv:Client")
        except Exception:  # a database failure: nothing was stored; Salesforce retries on a fault
            log.exception("POST /crm/salesforce: storing failed; answering a fault so Salesforce retries")
            return _fault(500, "Leadbot could not store the notifications; it will take them on the retry")
        return Response(content=salesforce.ACK, media_type=SOAP)

    return router


def _store(ctx: Context, message: salesforce.OutboundMessage) -> None:
    """Validate every notified Lead, then store them and the Opportunities' stages in one transaction."""
    config = ctx.config.crm.salesforce
    opportunities = [n for n in message.notifications if n.sobject_type == "Opportunity"]
    notified = [n for n in message.notifications if n.sobject_type != "Opportunity"]
    records = [salesforce.lead_record_of(n, config) for n in notified]
    leads = validate_leads(records, where=lambda i: f"Notification {notified[i].notification_id}") if records else []

    def also(session: Session, _: object) -> None:
        _record_pipeline(session, ctx, notified, opportunities)

    if leads:
        ingest(ctx, leads, source="salesforce", also=also)
    else:
        with ctx.transaction() as session:
            also(session, None)


def _record_pipeline(
    session: Session,
    ctx: Context,
    notified: list[salesforce.Notification],
    opportunities: list[salesforce.Notification],
) -> None:
    """Converted Leads become opportunities (once); notified Opportunities record their stage for their Lead."""
    cfg = ctx.config.crm.salesforce.opportunities
    now = ctx.now()
    reports = []
    for lead in notified:
        opportunity_id = deals.long_id(lead.fields.get("ConvertedOpportunityId") or "")
        lead_id = lead.lead_id
        if opportunity_id and lead_id and crm_inbound.link_opportunity_in(session, opportunity_id, lead_id, now=now):
            at = deals.moment(lead.fields.get("ConvertedDate")) or now
            reports.append(StageReport(external_id=salesforce.external_id(lead_id), stage=Stage.OPPORTUNITY, at=at))
    ids = {n.notification_id: deals.long_id(n.fields.get("Id") or "") for n in opportunities}
    linked = crm_inbound.linked_leads_in(session, [i for i in ids.values() if i])
    for opportunity in opportunities:
        opportunity_id = ids[opportunity.notification_id]
        lead_id = deals.opportunity_lead(opportunity.fields, cfg) or linked.get(opportunity_id or "")
        if lead_id is None:
            log.warning(
                "Salesforce Opportunity %s names no Lead (no %s, and no converted Lead named it): acknowledged, "
                "nothing recorded",
                opportunity_id or "?",
                cfg.lead_field or "lead field",
            )
            continue
        reports.append(deals.opportunity_report(opportunity.fields, lead_id, cfg, now=now))
    _, unknown = record_known_in(session, reports, now=now, source="salesforce")
    for report in unknown:
        log.warning(
            "Salesforce Opportunity stage %s for %s not recorded: that Lead is not in Leadbot (acknowledged)",
            report.stage.value,
            report.external_id,
        )


def _fault(status: int, message: str, *, code: str = "soapenv:Server") -> Response:
    return Response(content=salesforce.fault(message, code=code), status_code=status, media_type=SOAP)
