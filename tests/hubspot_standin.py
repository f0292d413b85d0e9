"""A local stand-in for HubSpot's CRM v3 contacts API (GET and PATCH of one contact) and deals (GET).

A deal is read with `?properties=...&associations=contacts` and answers as HubSpot does: the
asked properties (and the default `createdate`, `hs_lastmodifieddate`, `hs_object_id`), and
`associations.contacts.results` of `{"id", "type": "deal_to_contact"}` only when asked for.

It checks what HubSpot checks: the private-app bearer token, the JSON shape of a PATCH
(`{"properties": {...}}` with string values) and that every property exists in the portal,
and answers with HubSpot's error JSON (`status`, `message`, `correlationId`, `category`).
https://developers.hubspot.com/docs/api/crm/contacts

    with HubSpotStandIn() as hubspot:
        contact_id = hubspot.add_contact({"email": "dana@acmemetals.com", "company": "Acme"})
        ... HUBSPOT_API_URL=hubspot.url, HUBSPOT_ACCESS_TOKEN=hubspot_standin.TOKEN ...
        assert hubspot.contacts[contact_id]["hs_lead_status"] == "IN_PROGRESS"
"""

from __future__ import annotations

import copy
import re
from typing import Any

from tests.http_standin import Answer, HttpStandIn, bearer

TOKEN = "pat-na1-standin-0000"
CREATED = "2026-11-20T14:03:00.000Z"
_CONTACT = re.compile(r"^/crm/v3/objects/contacts/([^/]+)$")
_DEAL = re.compile(r"^/crm/v3/objects/deals/([^/]+)$")

# Properties of the stand-in portal: HubSpot's standard contact properties Leadbot uses and
# the two custom ones docs/crm.md asks a sales-op to create.
KNOWN_PROPERTIES = frozenset(
    {
        "company",
        "email",
        "firstname",
        "lastname",
        "jobtitle",
        "phone",
        "country",
        "state",
        "industry",
        "numberofemployees",
        "hs_analytics_source",
        "message",
        "hs_lead_status",
        "hubspot_owner_id",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
        "website",
        "city",
        "leadbot_reason",
        "leadbot_card_url",
    }
)


class HubSpotStandIn(HttpStandIn):
    name = "hubspot-standin"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, token: str = TOKEN) -> None:
        super().__init__(host, port)
        self.token = token
        self.known_properties = set(KNOWN_PROPERTIES)
        self._contacts: dict[str, dict[str, str]] = {}
        self._deals: dict[str, dict[str, Any]] = {}
        self._next_id = 101
        self._next_deal = 9001

    def __enter__(self) -> HubSpotStandIn:
        self.start()
        return self

    # -- portal state ---------------------------------------------------------

    def add_contact(self, properties: dict[str, str], contact_id: str | None = None) -> str:
        """Create a contact in the portal; returns its id (HubSpot's objectId, as a string)."""
        with self._lock:
            if contact_id is None:
                contact_id = str(self._next_id)
                self._next_id += 1
            self._contacts[contact_id] = {
                **properties,
                "hs_object_id": contact_id,
                "createdate": CREATED,
                "lastmodifieddate": CREATED,
            }
            return contact_id

    def add_deal(
        self,
        properties: dict[str, str | None],
        *,
        contacts: list[str],
        created: str = CREATED,
        deal_id: str | None = None,
    ) -> str:
        """Create a deal associated with `contacts`; returns its id."""
        with self._lock:
            if deal_id is None:
                deal_id = str(self._next_deal)
                self._next_deal += 1
            self._deals[deal_id] = {
                "properties": {**properties, "hs_object_id": deal_id, "createdate": created},
                "contacts": list(contacts),
            }
            return deal_id

    def move_deal(self, deal_id: str, **properties: str | None) -> None:
        """Change a deal's properties (a rep dragging it to another stage)."""
        with self._lock:
            self._deals[deal_id]["properties"].update(properties)

    @property
    def contacts(self) -> dict[str, dict[str, str]]:
        with self._lock:
            return copy.deepcopy(self._contacts)

    def revoke_token(self) -> None:
        """The private-app token was rotated: every call is 401 until `token` is set again."""
        with self._lock:
            self.token = "revoked-" + self.token

    # -- answers ----------------------------------------------------------------

    def _error(self, status: int, category: str, message: str, **extra: Any) -> Answer:
        return (
            status,
            {
                "status": "error",
                "message": message,
                "correlationId": self.correlation_id(),
                "category": category,
                **extra,
            },
            {},
        )

    def _error_body(self, status: int) -> Any:
        if status == 429:
            return {
                "status": "error",
                "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": self.correlation_id(),
                "policyName": "SECONDLY",
            }
        if status == 401:
            return {
                "status": "error",
                "message": "The OAuth token used to make this call expired.",
                "correlationId": self.correlation_id(),
                "category": "EXPIRED_AUTHENTICATION",
            }
        return {
            "status": "error",
            "message": "internal error",
            "correlationId": self.correlation_id(),
            "category": "INTERNAL_ERROR",
        }

    def _malformed(self) -> Answer:
        return self._error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1: the body is not JSON")

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> Answer:
        if bearer(headers) != self.token:
            return self._error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
            )
        deal = _DEAL.match(path)
        if deal is not None:
            return self._deal(method, deal.group(1), query)
        match = _CONTACT.match(path)
        if match is None:
            return 404, None, {}
        contact_id = match.group(1)
        contact = self._contacts.get(contact_id)
        if contact is None:
            return self._error(
                404,
                "OBJECT_NOT_FOUND",
                "Object not found.  objectId are usually numeric.",
                context={"id": [contact_id]},
            )
        if method == "GET":
            wanted = [p for value in query.get("properties", []) for p in value.split(",") if p]
            return 200, self._object(contact_id, wanted), {}
        if method == "PATCH":
            return self._patch(contact_id, body)
        return 405, None, {}

    def _deal(self, method: str, deal_id: str, query: dict[str, list[str]]) -> Answer:
        if method != "GET":
            return 405, None, {}
        deal = self._deals.get(deal_id)
        if deal is None:
            return self._error(
                404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.", context={"id": [deal_id]}
            )
        wanted = [p for value in query.get("properties", []) for p in value.split(",") if p]
        names = [*wanted, "createdate", "hs_lastmodifieddate", "hs_object_id"]
        props = deal["properties"]
        body: dict[str, Any] = {
            "id": deal_id,
            "properties": {name: props.get(name) for name in dict.fromkeys(names)},
            "createdAt": props["createdate"],
            "updatedAt": props["createdate"],
            "archived": False,
        }
        associations = {a for value in query.get("associations", []) for a in value.split(",") if a}
        if "contacts" in associations and deal["contacts"]:  # HubSpot leaves the key out when there are none
            body["associations"] = {
                "contacts": {"results": [{"id": c, "type": "deal_to_contact"} for c in deal["contacts"]]}
            }
        return 200, body, {}

    def _object(self, contact_id: str, wanted: list[str]) -> dict[str, Any]:
        contact = self._contacts[contact_id]
        names = [*wanted, "hs_object_id", "createdate", "lastmodifieddate"]
        return {
            "id": contact_id,
            "properties": {name: contact.get(name) for name in dict.fromkeys(names)},
            "createdAt": CREATED,
            "updatedAt": contact["lastmodifieddate"],
            "archived": False,
        }

    def _patch(self, contact_id: str, body: Any) -> Answer:
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict) or set(body) != {"properties"}:
            return self._error(400, "VALIDATION_ERROR", 'Invalid input JSON: expected {"properties": {...}}')
        properties: dict[str, Any] = body["properties"]
        problems = []
        for name, value in properties.items():
            if name not in self.known_properties:
                problems.append(
                    {
                        "isValid": False,
                        "message": f'Property "{name}" does not exist',
                        "error": "PROPERTY_DOESNT_EXIST",
                        "name": name,
                    }
                )
            elif not isinstance(value, str):
                problems.append(
                    {"isValid": False, "message": f"{value!r} is not a string", "error": "INVALID_STRING", "name": name}
                )
        if problems:
            return self._error(
                400,
                "VALIDATION_ERROR",
                f"Property values were not valid: {problems}",
                errors=[
                    {"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}}
                    for p in problems
                ],
            )
        self._contacts[contact_id].update(properties)
        return 200, self._object(contact_id, list(properties)), {}
