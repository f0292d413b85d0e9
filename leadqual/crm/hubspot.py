"""HubSpot, pure side: webhook signature v3, webhook and workflow bodies, batch-read answers
and write-back properties.

The HTTP client (batch reads and PATCH) and the route are in `bot.crm.hubspot`.

Signature v3 (https://developers.hubspot.com/docs/api/webhooks/validating-requests):
base64(HMAC-SHA256(client secret, method + uri + body + timestamp)), where `uri` is the full
URL HubSpot called with some URL-encoded characters decoded, and the timestamp
(`X-HubSpot-Request-Timestamp`, ms since the epoch) no older than 5 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from leadqual.crm.changes import ChangeKind, LeadChange
from leadqual.crm.config import HubSpotConfig
from leadqual.crm.mapping import lead_record
from leadqual.errors import InvalidLead
from leadqual.lead import Outcome

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
MAX_AGE = timedelta(minutes=5)
CONTACT_OBJECT_TYPE = "0-1"  # objectTypeId of contacts in generic `object.*` events
DEAL_OBJECT_TYPE = "0-3"
# HubSpot decodes these in the URI before signing (its table; the `?` of the query stays as is).
_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def signed_uri(public_url: str, raw_path: str, raw_query: str = "") -> str:
    """The `uri` HubSpot signed: the public base URL + path (+ query), with HubSpot's decodings."""
    uri = public_url.rstrip("/") + raw_path + (f"?{raw_query}" if raw_query else "")
    for encoded, plain in _DECODED.items():
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    return uri


def signature_v3(secret: str, *, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The X-HubSpot-Signature-v3 value for a request."""
    message = method.upper().encode() + uri.encode("utf-8") + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()).decode()


def verify_v3(
    secret: str, *, method: str, uri: str, body: bytes, signature: str | None, timestamp: str | None, now: datetime
) -> str | None:
    """None when the request is HubSpot's and fresh; otherwise why not (for the log, not the caller)."""
    if not signature or not timestamp:
        return "missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp"
    if not timestamp.isdigit() or len(timestamp) > 16:
        return "the timestamp is not milliseconds since the epoch"
    age_ms = now.timestamp() * 1000 - int(timestamp)
    if abs(age_ms) > MAX_AGE.total_seconds() * 1000:
        return f"the timestamp is {age_ms / 1000:.0f}s away from now (5 minutes at most)"
    expected = signature_v3(secret, method=method, uri=uri, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        return "the signature does not match"
    return None


# --- Inbound bodies ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One event of an app webhook delivery (a JSON array of these)."""

    event_id: str
    subscription_type: str
    object_id: str
    object_type_id: str | None = None
    portal_id: int | None = None
    occurred_at: int | None = None
    attempt_number: int = 0
    property_name: str | None = None  # propertyChange events

    @property
    def creates_contact(self) -> bool:
        return self.subscription_type == "contact.creation" or (
            self.subscription_type == "object.creation" and self.object_type_id == CONTACT_OBJECT_TYPE
        )

    @property
    def moves_deal(self) -> bool:
        """A deal was created or its stage changed (`deal.*`, or `object.*` of objectTypeId 0-3)."""
        kind = self.subscription_type
        if kind.startswith("object."):
            if self.object_type_id != DEAL_OBJECT_TYPE:
                return False
            kind = "deal." + kind.removeprefix("object.")
        if kind == "deal.creation":
            return True
        return kind == "deal.propertyChange" and self.property_name in (None, "dealstage")


@dataclass(frozen=True, slots=True)
class WorkflowContact:
    """A workflow "Send a webhook" body: one contact's properties, and its id when sent."""

    object_id: str | None
    properties: Mapping[str, Any]


def parse_body(data: Any) -> list[WebhookEvent] | WorkflowContact:
    """Tell app webhook events (an array) from a workflow body (an object); InvalidLead when neither."""
    if isinstance(data, list):
        return _events(data)
    if isinstance(data, dict) and data:
        return _workflow(data)
    raise InvalidLead([_error(["body"], "Send HubSpot webhook events (an array) or a contact object", "invalid_body")])


def _events(items: list[Any]) -> list[WebhookEvent]:
    if not items:
        raise InvalidLead([_error(["body"], "The event array is empty", "invalid_body")])
    events, errors = [], []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(_error(["body", i], "Each event must be an object", "invalid_event"))
            continue
        missing = [k for k in ("eventId", "subscriptionType", "objectId") if _id(item.get(k)) is None]
        if missing:
            errors.extend(_error(["body", i, k], "Field required", "missing") for k in missing)
            continue
        events.append(
            WebhookEvent(
                event_id=str(_id(item["eventId"])),
                subscription_type=str(item["subscriptionType"]),
                object_id=str(_id(item["objectId"])),
                object_type_id=str(item["objectTypeId"]) if item.get("objectTypeId") is not None else None,
                portal_id=_int(item.get("portalId")),
                occurred_at=_int(item.get("occurredAt")),
                attempt_number=_int(item.get("attemptNumber")) or 0,
                property_name=str(item["propertyName"]) if item.get("propertyName") is not None else None,
            )
        )
    if errors:
        raise InvalidLead(errors)
    return events


def _workflow(data: dict[str, Any]) -> WorkflowContact:
    nested = data.get("properties")
    if nested is not None and not isinstance(nested, dict):
        raise InvalidLead([_error(["body", "properties"], "properties must be an object", "invalid_body")])
    properties = nested if isinstance(nested, dict) else data
    object_id = _id(data.get("objectId")) or _id(data.get("vid")) or _id(_unwrapped(properties.get("hs_object_id")))
    return WorkflowContact(object_id=str(object_id) if object_id is not None else None, properties=properties)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _unwrapped(value: object) -> object:
    return value.get("value") if isinstance(value, dict) else value


def _id(value: object) -> str | int | None:
    """A HubSpot id (number or numeric string); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _error(loc: list[Any], msg: str, kind: str) -> dict[str, object]:
    return {"loc": loc, "msg": msg, "type": kind}


def external_id(object_id: str | int) -> str:
    return f"hubspot:{object_id}"


def requested_properties(config: HubSpotConfig) -> list[str]:
    """The `properties=` to ask for when fetching a contact: every mapped one."""
    return sorted(config.properties)


def contact_record(object_id: str | None, properties: Mapping[str, Any], config: HubSpotConfig) -> dict[str, Any]:
    """A contact's properties as a v1 lead record, `external_id` `hubspot:<objectId>`."""
    record = lead_record(properties, config.properties, external_id=external_id(object_id) if object_id else None)
    record.setdefault("source", "hubspot")
    return record


# --- Batch reads ----------------------------------------------------------------------------

MAX_BATCH = 100  # inputs per `POST /crm/v3/objects/{type}/batch/read` and associations batch read
MERGED_IDS = "hs_merged_object_ids"  # asked for too, so a merged-away id finds the object it became


@dataclass(frozen=True)
class BatchRead:
    """What one batch read said of the ids asked: `found` objects and `missing` ids with HubSpot's reason."""

    found: dict[str, Mapping[str, Any]]
    missing: dict[str, str]


def batch_read(answer: Mapping[str, Any], asked: Sequence[str], kind: str) -> BatchRead:
    """Sort a `batch/read` answer (200 COMPLETE, or 207 with `errors`) by the ids that were asked.

    A result is the asked id's object when its `id` (or `hs_object_id`) is that id, or when the id
    is in its `hs_merged_object_ids` (HubSpot answers a merged-away id with the contact it was merged
    into). An id named by an error's `context.ids` (OBJECT_NOT_FOUND: deleted, or never there) is
    missing with HubSpot's message; an id the answer says nothing of is missing too, with that said.
    https://developers.hubspot.com/docs/api/crm/contacts (batch read; multi-status errors)
    """
    wanted = list(dict.fromkeys(str(i) for i in asked))
    found: dict[str, Mapping[str, Any]] = {}
    for item in answer.get("results") or []:
        if not isinstance(item, Mapping):
            continue
        props = _mapping(item.get("properties"))
        merged = str(props.get(MERGED_IDS) or "").split(";")
        names = {str(n) for n in (item.get("id"), props.get("hs_object_id")) if n is not None}
        names |= {m.strip() for m in merged if m.strip()}
        for object_id in wanted:
            if object_id in names:
                found.setdefault(object_id, item)
    missing: dict[str, str] = {}
    for error in answer.get("errors") or []:
        if not isinstance(error, Mapping):
            continue
        context = _mapping(error.get("context"))
        reason = f"HubSpot {error.get('category') or 'error'}: {error.get('message') or 'no message'}"
        for object_id in context.get("ids") or []:
            if str(object_id) in wanted and str(object_id) not in found:
                missing.setdefault(str(object_id), reason)
    for object_id in wanted:
        if object_id not in found and object_id not in missing:
            missing[object_id] = f"HubSpot's batch read answered neither the {kind} nor an error for it"
    return BatchRead(found, missing)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def associated_ids(answer: Mapping[str, Any]) -> dict[str, list[str]]:
    """`{fromId: [toObjectId, ...]}` of a v4 associations batch read, each id once whatever its labels.

    `results[].from.id` and `results[].to[].toObjectId` (a number or a string); a from-object with
    none is not in `results` but in `errors` (NO_ASSOCIATIONS_FOUND), so it is simply absent here.
    https://developers.hubspot.com/docs/api/crm/associations (v4, batch read)
    """
    found: dict[str, list[str]] = {}
    for item in answer.get("results") or []:
        if not isinstance(item, Mapping) or not isinstance(item.get("from"), Mapping):
            continue
        targets = found.setdefault(str(item["from"].get("id")), [])
        for to in item.get("to") or []:
            if isinstance(to, Mapping) and to.get("toObjectId") is not None and str(to["toObjectId"]) not in targets:
                targets.append(str(to["toObjectId"]))
    return found


def association_pages(answer: Mapping[str, Any]) -> list[dict[str, str]]:
    """The inputs that read the next page of each from-object whose associations did not fit one answer."""
    pages = []
    for item in answer.get("results") or []:
        if not isinstance(item, Mapping) or not isinstance(item.get("from"), Mapping):
            continue
        after = _mapping(_mapping(item.get("paging")).get("next")).get("after")
        if after:
            pages.append({"id": str(item["from"].get("id")), "after": str(after)})
    return pages


# --- Write-back ------------------------------------------------------------------------------


def write_back_properties(change: LeadChange, config: HubSpotConfig) -> dict[str, str]:
    """The `properties` of the PATCH that tells HubSpot about `change` (strings, as HubSpot takes them)."""
    wb = config.write_back
    props: dict[str, str] = {}
    if change.kind in (ChangeKind.CLAIM, ChangeKind.REOPEN):
        props[wb.status_property] = wb.statuses.claimed
        owner = config.owners.get(change.owner_id or "") if change.kind is ChangeKind.CLAIM else None
        if owner:
            props[wb.owner_property] = owner
    else:
        assert change.outcome is not None
        props[wb.status_property] = getattr(wb.statuses, Outcome(change.outcome).value)
        if wb.reason_property:  # cleared ("") unless Not qualified: a reopened decision's reason must go
            props[wb.reason_property] = (change.reason or "") if change.outcome is Outcome.NOT_QUALIFIED else ""
    if change.permalink and wb.link_property:
        props[wb.link_property] = change.permalink
    return props
