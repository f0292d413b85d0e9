"""Requests built the way HubSpot and Salesforce build them, for the CRM route tests.

HubSpot signs `method + uri + body + timestamp` (HMAC-SHA256, base64) where `uri` is the URL it
called with its listed URL-encoded characters decoded; this helper builds that string from
the URL independently of `leadqual.crm.hubspot` so the route is checked against the spec.
https://developers.hubspot.com/docs/api/webhooks/validating-requests
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from tests.hubspot_standin import TOKEN as HUBSPOT_TOKEN

HUBSPOT_SECRET = "hubspot-client-secret-0000"
PUBLIC_URL = "https://leads.acme.com"
SF_ORG_ID = "00D5g000004ABCDEAS"
# A HubSpot contact as the CRM API returns its properties (all strings).
ACME_CONTACT = {
    "email": "dana@acmemetals.com",
    "company": "Acme Metals",
    "firstname": "Dana",
    "lastname": "Ruiz",
    "jobtitle": "Maintenance Manager",
    "country": "US",
    "state": "TX",
    "industry": "metals",
    "numberofemployees": "850",
    "message": "Need a quote for a pump before the December outage.",
}
HUBSPOT_DECODES = (
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
)


def hubspot_headers(
    body: bytes,
    *,
    at: datetime,
    url: str = PUBLIC_URL + "/crm/hubspot",
    secret: str = HUBSPOT_SECRET,
    method: str = "POST",
) -> dict[str, str]:
    """The headers HubSpot sends with a v3-signed request to `url` at the moment `at`."""
    timestamp = str(int(at.timestamp() * 1000))
    uri = url
    for encoded, plain in HUBSPOT_DECODES:
        uri = uri.replace(encoded, plain)
    source = f"{method}{uri}".encode() + body + timestamp.encode()
    signature = base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": timestamp,
        "X-HubSpot-Signature-Version": "v3",
        "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/)",
    }


def hubspot_event(
    object_id: int, *, event_id: int, subscription_type: str = "contact.creation", at: datetime, **extra: Any
) -> dict[str, Any]:
    """One event of an app webhook delivery, with the fields HubSpot sends."""
    return {
        "eventId": event_id,
        "subscriptionId": 2881778,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": int(at.timestamp() * 1000),
        "subscriptionType": subscription_type,
        "attemptNumber": 0,
        "objectId": object_id,
        "changeFlag": "NEW",
        "changeSource": "CRM",
        "sourceId": "userId:1234567",
        **extra,
    }


def body_of(data: Any) -> bytes:
    """JSON as HubSpot serialises it (compact)."""
    return json.dumps(data, separators=(",", ":")).encode()


def outbound_message(
    leads: list[tuple[str, dict[str, str | None]]],
    *,
    org_id: str = SF_ORG_ID,
    action_id: str = "04k5g000000ABCDAA2",
    sobject: str = "Lead",
) -> bytes:
    """A Salesforce Outbound Message for Lead (or `sobject`, e.g. Opportunity) records, as Salesforce posts it.

    `leads` holds (record Id, fields); a None value is sent as xsi:nil, as Salesforce does.
    """
    notifications = []
    for i, (lead_id, fields) in enumerate(leads, start=1):
        cells = [f"<sf:Id>{lead_id}</sf:Id>"]
        for name, value in fields.items():
            cells.append(f'<sf:{name} xsi:nil="true"/>' if value is None else f"<sf:{name}>{escape(value)}</sf:{name}>")
        notifications.append(
            f"<Notification><Id>04l5g00000{i:06d}AAA</Id>"
            f'<sObject xsi:type="sf:{sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{"".join(cells)}</sObject>'
            "</Notification>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        " <soapenv:Body>\n"
        '  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">\n'
        f"   <OrganizationId>{org_id}</OrganizationId>\n"
        f"   <ActionId>{action_id}</ActionId>\n"
        '   <SessionId xsi:nil="true"/>\n'
        f"   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/61.0/{org_id[:15]}</EnterpriseUrl>\n"
        f"   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/61.0/{org_id[:15]}</PartnerUrl>\n"
        + "".join(notifications)
        + "  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n"
    ).encode()


SOAP_HEADERS = {
    "Content-Type": "text/xml; charset=utf-8",
    "SOAPAction": '""',
    "User-Agent": "Salesforce - OutboundMessaging",
}

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00D5g000004ABCDEAS</OrganizationId>
<Notification><Id>04l1</Id><sObject xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="sf:Lead"
 xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>00Q5g000000XXEAAA</sf:Id><sf:Company>&xxe;</sf:Company>
</sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00D5g000004ABCDEAS</OrganizationId>
<Notification><Id>04l1</Id><sObject xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="sf:Lead"
 xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>00Q5g000000LOLAAA</sf:Id><sf:Company>&lol9;</sf:Company>
</sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>"""


def hubspot_env(api_url: str, **more: str) -> dict[str, str]:
    """The settings a HubSpot connection needs: the public URL it signs, the app secret, the API."""
    return {
        "LEADBOT_PUBLIC_URL": PUBLIC_URL,
        "HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET,
        "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
        "HUBSPOT_API_URL": api_url,
        **more,
    }
