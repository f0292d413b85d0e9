"""A local stand-in for Salesforce's REST API: PATCH of a Lead, and the OAuth token endpoint.

It checks what Salesforce checks: the bearer token (401 `INVALID_SESSION_ID`), the API version
in the path, that the body is a JSON object of existing Lead fields with scalar values
(400 `INVALID_FIELD` / `JSON_PARSER_ERROR`), and that the Lead exists (404 `NOT_FOUND`);
errors are JSON arrays of `{"message", "errorCode"}` as Salesforce answers them, and a
successful update is 204 with no body.
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm

    with SalesforceStandIn() as salesforce:
        lead_id = salesforce.add_lead({"Company": "Acme", "LastName": "Ruiz"})
"""

from __future__ import annotations

import copy
import re
import secrets
from typing import Any

from tests.http_standin import Answer, HttpStandIn, bearer

ORG_ID = "00D5g000004ABCDEAS"
TOKEN = ORG_ID + "!AQ0AQStandInAccessToken"
CLIENT_ID = "3MVG9standin-consumer-key"
CLIENT_SECRET = "standin-consumer-secret"
_LEAD = re.compile(r"^/services/data/(v\d+\.\d)/sobjects/Lead/([A-Za-z0-9]{15,18})$")
KNOWN_FIELDS = frozenset(
    {
        "Company",
        "Email",
        "FirstName",
        "LastName",
        "Title",
        "Phone",
        "Country",
        "State",
        "Industry",
        "NumberOfEmployees",
        "LeadSource",
        "Description",
        "Status",
        "OwnerId",
        "Leadbot_Reason__c",
        "Leadbot_Card_URL__c",
    }
)


class SalesforceStandIn(HttpStandIn):
    name = "salesforce-standin"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = TOKEN,
        api_versions: tuple[str, ...] = ("v60.0", "v61.0", "v62.0"),
    ) -> None:
        super().__init__(host, port)
        self._tokens = {token} if token else set()
        self.api_versions = api_versions
        self.known_fields = set(KNOWN_FIELDS)
        self._leads: dict[str, dict[str, Any]] = {}
        self._next = 1

    def __enter__(self) -> SalesforceStandIn:
        self.start()
        return self

    # -- org state --------------------------------------------------------------

    def add_lead(self, fields: dict[str, Any], lead_id: str | None = None) -> str:
        """Create a Lead; returns its 18-character id."""
        with self._lock:
            if lead_id is None:
                lead_id = f"00Q5g{self._next:010d}AAA"
                self._next += 1
            self._leads[lead_id] = dict(fields)
            return lead_id

    @property
    def leads(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._leads)

    def expire_sessions(self) -> None:
        """Every issued access token stops working (Salesforce's session timeout)."""
        with self._lock:
            self._tokens.clear()

    # -- answers ----------------------------------------------------------------

    def _error_body(self, status: int) -> Any:
        if status == 401:
            return [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        if status == 429 or status == 403:
            return [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        if status == 503:
            return [{"message": "Server temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
        return [
            {
                "message": "An unexpected error occurred. Please include this ErrorId if you contact "
                "support: 1234567890-12345 (-1234567890)",
                "errorCode": "UNKNOWN_EXCEPTION",
            }
        ]

    def _malformed(self) -> Answer:
        return (
            400,
            [{"message": "Unexpected character: was expecting a JSON value", "errorCode": "JSON_PARSER_ERROR"}],
            {},
        )

    def _counts_for_faults(self, path: str) -> bool:
        return not path.startswith("/services/oauth2/")  # faults are for the REST API

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> Answer:
        if path == "/services/oauth2/token" and method == "POST":
            return self._token(body)
        if bearer(headers) not in self._tokens:
            return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], {}
        match = _LEAD.match(path)
        if match is None or match.group(1) not in self.api_versions:
            return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], {}
        lead_id = match.group(2)
        if method != "PATCH":
            return (
                405,
                [
                    {
                        "errorCode": "METHOD_NOT_ALLOWED",
                        "message": f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,HEAD,DELETE",
                    }
                ],
                {},
            )
        if lead_id not in self._leads:
            return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], {}
        if not isinstance(body, dict):
            return (
                400,
                [
                    {
                        "message": "Json Deserialization failed on token 'null' and has left off in the middle "
                        "of parsing a row. Will go to end of row to begin parsing the next row",
                        "errorCode": "INVALID_FIELD",
                    }
                ],
                {},
            )
        for name, value in body.items():
            if name not in self.known_fields:
                return (
                    400,
                    [{"message": f"No such column '{name}' on sobject of type Lead", "errorCode": "INVALID_FIELD"}],
                    {},
                )
            if isinstance(value, dict | list):
                return (
                    400,
                    [
                        {
                            "message": f"Cannot deserialize instance of string from {type(value).__name__} "
                            f"value for field {name}",
                            "errorCode": "JSON_PARSER_ERROR",
                        }
                    ],
                    {},
                )
        self._leads[lead_id].update(body)
        return 204, None, {}

    def _token(self, form: Any) -> Answer:
        if not isinstance(form, dict) or form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, {}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}, {}
        token = f"{ORG_ID}!AQ0AQ{secrets.token_hex(16)}"
        self._tokens.add(token)
        return (
            200,
            {
                "access_token": token,
                "signature": secrets.token_urlsafe(16),
                "scope": "api",
                "instance_url": self.url,
                "id": f"{self.url}/id/{ORG_ID}/0055g00000ABCDEAAA",
                "token_type": "Bearer",
                "issued_at": "1764000000000",
            },
            {},
        )
