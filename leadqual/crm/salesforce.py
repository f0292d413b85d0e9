"""Salesforce, pure side: Outbound Message parsing, the Ack and fault envelopes, write-back fields.

The HTTP client (REST PATCH of a Lead, client-credentials token) and the route are in
`bot.crm.salesforce`.

An Outbound Message is a SOAP 1.1 `notifications` element (namespace
http://soap.sforce.com/2005/09/outbound) with OrganizationId, ActionId, SessionId,
EnterpriseUrl, PartnerUrl and up to 100 Notification elements, each an Id and an sObject
(`xsi:type="sf:Lead"`) whose children are the fields chosen for the message.
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_understanding.htm

XML is parsed with defusedxml and a DTD is refused outright: Salesforce never sends one, and
without a DTD there are no external entities and no entity-expansion bombs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from leadqual.crm.changes import ChangeKind, LeadChange
from leadqual.crm.config import SalesforceConfig
from leadqual.crm.mapping import lead_record
from leadqual.lead import Outcome

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100


class MalformedMessage(ValueError):
    """The body is not an Outbound Message Leadbot can take (the message says why)."""


@dataclass(frozen=True, slots=True)
class Notification:
    notification_id: str
    sobject_type: str  # "Lead"
    fields: Mapping[str, str | None]

    @property
    def lead_id(self) -> str | None:
        value = self.fields.get("Id")
        return value or None


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    organization_id: str
    action_id: str | None
    session_id: str | None
    enterprise_url: str | None
    partner_url: str | None
    notifications: tuple[Notification, ...]


def parse_outbound_message(body: bytes) -> OutboundMessage:
    """Parse a SOAP Outbound Message; MalformedMessage for anything else (DTDs and entities included)."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedMessage(f"refused: {type(exc).__name__} (DTDs and entities are not accepted)") from None
    except (ParseError, ValueError) as exc:
        raise MalformedMessage(f"not well-formed XML: {exc}") from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise MalformedMessage("not a SOAP 1.1 Envelope")
    found = root.find(f"{{{SOAP_ENV}}}Body/{{{OUTBOUND}}}notifications")
    if found is None:
        raise MalformedMessage("the SOAP Body holds no Outbound Message notifications element")
    notes = found.findall(f"{{{OUTBOUND}}}Notification")
    if not notes:
        raise MalformedMessage("no Notification elements")
    if len(notes) > MAX_NOTIFICATIONS:
        raise MalformedMessage(f"{len(notes)} notifications; an Outbound Message carries {MAX_NOTIFICATIONS} at most")
    organization_id = _text(found, "OrganizationId")
    if not organization_id:
        raise MalformedMessage("OrganizationId is missing")
    return OutboundMessage(
        organization_id=organization_id,
        action_id=_text(found, "ActionId"),
        session_id=_text(found, "SessionId"),
        enterprise_url=_text(found, "EnterpriseUrl"),
        partner_url=_text(found, "PartnerUrl"),
        notifications=tuple(_notification(n, i) for i, n in enumerate(notes)),
    )


def _notification(element: Element, index: int) -> Notification:
    sobject = element.find(f"{{{OUTBOUND}}}sObject")
    if sobject is None:
        raise MalformedMessage(f"Notification {index + 1} has no sObject")
    declared = sobject.get(f"{{{XSI}}}type") or ""
    fields = {_local(child.tag): _value(child) for child in sobject}
    return Notification(
        notification_id=_text(element, "Id") or "", sobject_type=declared.rpartition(":")[2], fields=fields
    )


def _text(parent: Element, name: str) -> str | None:
    child = parent.find(f"{{{OUTBOUND}}}{name}")
    return _value(child) if child is not None else None


def _value(element: Element) -> str | None:
    if element.get(f"{{{XSI}}}nil") == "true":
        return None
    return (element.text or "").strip() or None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def same_org(sent: str, expected: str) -> bool:
    """Org ids compare on their first 15 characters, case-sensitively (the 18-char form adds a checksum)."""
    return len(sent) in (15, 18) and len(expected) in (15, 18) and sent[:15] == expected[:15]


def external_id(lead_id: str) -> str:
    return f"salesforce:{lead_id}"


def lead_record_of(notification: Notification, config: SalesforceConfig) -> dict[str, Any]:
    """A notified Lead as a v1 lead record, `external_id` `salesforce:<LeadId>`."""
    if notification.sobject_type != "Lead":
        raise MalformedMessage(
            f"Notification {notification.notification_id or '?'} is a "
            f"{notification.sobject_type or 'untyped'} sObject, not a Lead"
        )
    if not notification.lead_id:
        raise MalformedMessage(
            f"Notification {notification.notification_id or '?'} has no Lead Id "
            "(add Id to the Outbound Message's fields)"
        )
    record = lead_record(notification.fields, config.fields, external_id=external_id(notification.lead_id))
    record.setdefault("source", "salesforce")
    return record


# --- The answers Salesforce expects -------------------------------------------------------------

ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    b"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"
)


def fault(message: str, *, code: str = "soapenv:Server") -> bytes:
    """A SOAP 1.1 Fault; Salesforce retries the message when it gets one (or no Ack)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<soapenv:Body><soapenv:Fault><faultcode>{escape(code)}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring></soapenv:Fault></soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()


# --- Write-back --------------------------------------------------------------------------------


def write_back_fields(change: LeadChange, config: SalesforceConfig) -> dict[str, str | None]:
    """The Lead fields of the PATCH that tells Salesforce about `change` (None clears a field)."""
    wb = config.write_back
    fields: dict[str, str | None] = {}
    if change.kind in (ChangeKind.CLAIM, ChangeKind.REOPEN):
        fields[wb.status_field] = wb.statuses.claimed
        owner = config.owners.get(change.owner_id or "") if change.kind is ChangeKind.CLAIM else None
        if owner:
            fields[wb.owner_field] = owner
    else:
        assert change.outcome is not None
        fields[wb.status_field] = getattr(wb.statuses, Outcome(change.outcome).value)
        if wb.reason_field:
            fields[wb.reason_field] = change.reason if change.outcome is Outcome.NOT_QUALIFIED else None
    if change.permalink and wb.link_field:
        fields[wb.link_field] = change.permalink
    return fields
