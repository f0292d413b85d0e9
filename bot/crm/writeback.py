"""The write-back port: the worker hands a `LeadChange` to its CRM's writer and gets a CrmResult.

One writer per CRM, built from Settings in `leadbot worker`; each maps the change through the
config (`crm.*.write_back`, `crm.*.owners`) at send time and makes the CRM's PATCH.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.crm import hubspot as hubspot_edge
from bot.crm import salesforce as salesforce_edge
from bot.crm.results import CrmResult
from leadqual.crm import hubspot, salesforce
from leadqual.crm.changes import LeadChange, crm_of
from leadqual.crm.config import CrmConfig
from leadqual.settings import Settings


class CrmWriter(Protocol):
    """Tell one CRM about one change of one of its records."""

    name: str  # hubspot | salesforce (the outbox kind)
    label: str  # HubSpot | Salesforce (for the log)
    missing: str  # what to set when it is not configured (for the log)

    def write_back(self, change: LeadChange, config: CrmConfig) -> CrmResult: ...


class HubSpotWriter:
    name, label, missing = "hubspot", "HubSpot", "HUBSPOT_ACCESS_TOKEN"

    def __init__(self, client: hubspot_edge.HubSpotClient) -> None:
        self.client = client

    def write_back(self, change: LeadChange, config: CrmConfig) -> CrmResult:
        """PATCH the contact's properties mapped from `change`."""
        return self.client.update_contact(_crm_id(change), hubspot.write_back_properties(change, config.hubspot))


class SalesforceWriter:
    name, label, missing = "salesforce", "Salesforce", "SALESFORCE_INSTANCE_URL and a token or client credentials"

    def __init__(self, client: salesforce_edge.SalesforceClient) -> None:
        self.client = client

    def write_back(self, change: LeadChange, config: CrmConfig) -> CrmResult:
        """PATCH the Lead's fields mapped from `change`."""
        return self.client.update_lead(_crm_id(change), salesforce.write_back_fields(change, config.salesforce))


# What to set for a CRM whose writer is missing (the worker logs it while its rows wait).
MISSING = {HubSpotWriter.name: HubSpotWriter.missing, SalesforceWriter.name: SalesforceWriter.missing}
LABELS = {HubSpotWriter.name: HubSpotWriter.label, SalesforceWriter.name: SalesforceWriter.label}


def writers_from(settings: Settings) -> dict[str, CrmWriter]:
    """A writer for each CRM Settings configure (none when no CRM token is set)."""
    writers: dict[str, CrmWriter] = {}
    hs = hubspot_edge.client_from(settings)
    if hs is not None:
        writers["hubspot"] = HubSpotWriter(hs)
    sf = salesforce_edge.client_from(settings)
    if sf is not None:
        writers["salesforce"] = SalesforceWriter(sf)
    return writers


def writers_of(
    *,
    hubspot_client: hubspot_edge.HubSpotClient | None = None,
    salesforce_client: salesforce_edge.SalesforceClient | None = None,
) -> Mapping[str, CrmWriter]:
    """Writers around given clients (tests and benchmarks point them at stand-ins)."""
    writers: dict[str, CrmWriter] = {}
    if hubspot_client is not None:
        writers["hubspot"] = HubSpotWriter(hubspot_client)
    if salesforce_client is not None:
        writers["salesforce"] = SalesforceWriter(salesforce_client)
    return writers


def _crm_id(change: LeadChange) -> str:
    found = crm_of(change.external_id)
    if found is None:
        raise ValueError(f"{change.external_id!r} is not a CRM record")
    return found[1]
