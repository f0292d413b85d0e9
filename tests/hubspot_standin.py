"""A local stand-in for HubSpot's CRM API: contacts (GET, PATCH, batch read), deals (GET, batch
read) and the v4 deal-to-contact associations batch read.

`POST /crm/v3/objects/{contacts,deals}/batch/read` takes `{"properties": [...], "inputs":
[{"id": "..."}]}` (at most 100 inputs, ids as strings) and answers 200 `status: COMPLETE` with
`results` when every id is found, 207 with `numErrors` and one OBJECT_NOT_FOUND error whose
`context.ids` names the missing ones otherwise; a merged-away contact id answers with the contact
it was merged into (its `hs_merged_object_ids` lists the old ids). `POST /crm/v4/associations/
deals/contacts/batch/read` takes `{"inputs": [{"id", "after"?}]}` and answers `results[]` of
`{"from": {"id"}, "to": [{"toObjectId", "associationTypes"}], "paging"?}`; a deal with no contact
(or none at all) is a 207 error NO_ASSOCIATIONS_FOUND with `context.fromObjectId`. A single GET of
a deal takes `?properties=...&associations=contacts` as before.

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
from datetime import UTC, datetime
from typing import Any

from tests.http_standin import Answer, HttpStandIn, bearer

TOKEN = "pat-na1-standin-0000"
CREATED = "2026-11-20T14:03:00.000Z"
_CONTACT = re.compile(r"^/crm/v3/objects/contacts/([^/]+)$")
_DEAL = re.compile(r"^/crm/v3/objects/deals/([^/]+)$")
_BATCH_READ = re.compile(r"^/crm/v3/objects/(contacts|deals)/batch/read$")
_ASSOCIATIONS = re.compile(r"^/crm/v4/associations/deals/contacts/batch/read$")
MAX_INPUTS = 100
DEAL_TO_CONTACT = 3  # HubSpot's associationTypeId of the unlabelled deal-to-contact association

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
        self._merged: dict[str, str] = {}  # merged-away contact id -> the contact it became part of
        self._next_id = 101
        self._next_deal = 9001
        self.association_page_size = 500  # contacts per deal in one associations answer before `paging`

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

    def merge_contact(self, contact_id: str, into: str) -> None:
        """Merge `contact_id` into `into`: the old id now reads as `into`, whose `hs_merged_object_ids` lists it."""
        with self._lock:
            del self._contacts[contact_id]
            self._merged[contact_id] = into
            winner = self._contacts[into]
            winner["hs_merged_object_ids"] = ";".join(filter(None, [winner.get("hs_merged_object_ids"), contact_id]))

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
        batch = _BATCH_READ.match(path)
        if batch is not None:
            return self._batch_read(batch.group(1), body) if method == "POST" else (405, None, {})
        if _ASSOCIATIONS.match(path):
            return self._associations(body) if method == "POST" else (405, None, {})
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
        body = self._deal_object(deal_id, wanted)
        associations = {a for value in query.get("associations", []) for a in value.split(",") if a}
        if "contacts" in associations and deal["contacts"]:  # HubSpot leaves the key out when there are none
            body["associations"] = {
                "contacts": {"results": [{"id": c, "type": "deal_to_contact"} for c in deal["contacts"]]}
            }
        return 200, body, {}

    def _deal_object(self, deal_id: str, wanted: list[str]) -> dict[str, Any]:
        props = self._deals[deal_id]["properties"]
        names = [*wanted, "createdate", "hs_lastmodifieddate", "hs_object_id"]
        return {
            "id": deal_id,
            "properties": {name: props.get(name) for name in dict.fromkeys(names)},
            "createdAt": props["createdate"],
            "updatedAt": props["createdate"],
            "archived": False,
        }

    def _inputs(self, body: Any, *, properties: bool) -> list[dict[str, Any]] | Answer:
        """The `inputs` of a batch read, checked as HubSpot checks them, or its 400."""
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            return self._error(400, "VALIDATION_ERROR", 'Invalid input JSON: expected {"inputs": [...]}')
        inputs: list[Any] = body["inputs"]
        if len(inputs) > MAX_INPUTS:
            return self._error(
                400, "VALIDATION_ERROR", f"Batch input is limited to {MAX_INPUTS} inputs, got {len(inputs)}"
            )
        for item in inputs:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
                return self._error(
                    400, "VALIDATION_ERROR", f"Invalid input JSON: each input needs a string id: {item!r}"
                )
            if "after" in item and not isinstance(item["after"], str):
                return self._error(400, "VALIDATION_ERROR", f"Invalid input JSON: after must be a string: {item!r}")
        if properties:
            names = body.get("properties")
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                return self._error(400, "VALIDATION_ERROR", "Invalid input JSON: properties must be a list of strings")
            if body.get("idProperty") not in (None, "hs_object_id"):
                return self._error(400, "VALIDATION_ERROR", f"Unknown idProperty {body['idProperty']!r}")
        return inputs

    def _batch_read(self, objects: str, body: Any) -> Answer:
        inputs = self._inputs(body, properties=True)
        if isinstance(inputs, tuple):
            return inputs
        wanted: list[str] = body["properties"]
        results: dict[str, dict[str, Any]] = {}
        missing: list[str] = []
        for object_id in dict.fromkeys(str(item["id"]) for item in inputs):
            if objects == "contacts":
                found = self._merged.get(object_id, object_id)
                if found in self._contacts:
                    results.setdefault(found, self._object(found, wanted))
                    continue
            elif object_id in self._deals:
                results.setdefault(object_id, self._deal_object(object_id, wanted))
                continue
            missing.append(object_id)
        kind = "CONTACT" if objects == "contacts" else "DEAL"
        errors = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {kind} objects, they may be deleted or not exist. Check that ids are valid.",
                "context": {"ids": missing},
                "links": {},
            }
        ]
        return self._batch_answer(list(results.values()), errors if missing else [])

    def _associations(self, body: Any) -> Answer:
        inputs = self._inputs(body, properties=False)
        if isinstance(inputs, tuple):
            return inputs
        results, errors = [], []
        size = self.association_page_size
        for item in inputs:
            deal_id, after = item["id"], item.get("after")
            contacts = (self._deals.get(deal_id) or {}).get("contacts") or []
            if not contacts:
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                        "message": f"No contact is associated with deal {deal_id}.",
                        "context": {"fromObjectId": [deal_id], "fromObjectType": ["deal"], "toObjectType": ["contact"]},
                    }
                )
                continue
            if after is not None and not after.isdigit():
                return self._error(400, "VALIDATION_ERROR", f"Invalid paging cursor {after!r}")
            start = int(after or 0)
            page: dict[str, Any] = {
                "from": {"id": deal_id},
                "to": [  # HubSpot sends toObjectId as a number
                    {
                        "toObjectId": int(c) if c.isdigit() else c,
                        "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": DEAL_TO_CONTACT, "label": None}],
                    }
                    for c in dict.fromkeys(contacts[start : start + size])
                ],
            }
            if start + size < len(contacts):
                page["paging"] = {"next": {"after": str(start + size), "link": None}}
            results.append(page)
        return self._batch_answer(results, errors)

    def _batch_answer(self, results: list[dict[str, Any]], errors: list[dict[str, Any]]) -> Answer:
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        answer: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        if errors:
            return 207, {**answer, "numErrors": len(errors), "errors": errors}, {}
        return 200, answer, {}

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
