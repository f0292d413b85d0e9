"""CRM properties and fields become v1 lead records (pure: no database, no HTTP)."""

from __future__ import annotations

from leadqual.crm.config import HUBSPOT_PROPERTIES, SALESFORCE_FIELDS
from leadqual.crm.mapping import as_int, field_of, lead_record
from leadqual.lead import Lead


def test_hubspot_properties_become_a_valid_lead_with_the_contact_name_joined() -> None:
    properties = {
        "company": "Acme Metals",
        "email": "Dana@AcmeMetals.com",
        "firstname": "Dana",
        "lastname": "Ruiz",
        "jobtitle": "Maintenance Manager",
        "country": "US",
        "state": "TX",
        "industry": "METALS",
        "numberofemployees": "850",
        "hs_analytics_source": "ORGANIC_SEARCH",
        "hs_object_id": "123",
        "lastmodifieddate": "2026-11-20T14:03:00.000Z",
    }
    record = lead_record(properties, HUBSPOT_PROPERTIES, external_id="hubspot:123")
    lead = Lead.model_validate(record)
    assert lead.external_id == "hubspot:123"
    assert lead.contact.name == "Dana Ruiz" and lead.contact.email == "dana@acmemetals.com"
    assert lead.company.employees == 850 and lead.company.industry == "metals"
    assert lead.company.domain == "acmemetals.com" and lead.source == "organic_search"


def test_values_may_be_wrapped_as_value_objects_and_blank_ones_are_unset() -> None:
    properties = {
        "company": {"value": "Beta Water", "versions": []},
        "email": {"value": ""},
        "lastname": {"value": "Ng"},
        "phone": "   ",
    }
    record = lead_record(properties, HUBSPOT_PROPERTIES, external_id=None)
    assert record == {"company": {"name": "Beta Water"}, "contact": {"name": "Ng"}}


def test_employee_counts_in_crm_spellings_become_integers_and_nonsense_is_kept_aside() -> None:
    assert [as_int(v) for v in ("850", "1,200", "850.0", 42, 3.0, "")] == [850, 1200, 850, 42, 3, None]
    record = lead_record(
        {"Company": "Acme", "NumberOfEmployees": "about 50"}, SALESFORCE_FIELDS, external_id="salesforce:00Q1"
    )
    assert record["attributes"] == {"NumberOfEmployees": "about 50"}
    assert "employees" not in record["company"]


def test_attribute_targets_keep_the_value_under_their_own_name() -> None:
    record = lead_record({"plant": "Line 3"}, {"plant": "attributes.plant_name"}, external_id=None)
    assert record == {"attributes": {"plant_name": "Line 3"}}


def test_a_validation_error_location_is_traced_back_to_the_crm_field() -> None:
    assert field_of(SALESFORCE_FIELDS, ["contact", "email"]) == "Email"
    assert field_of(HUBSPOT_PROPERTIES, ("company", "employees")) == "numberofemployees"
    assert field_of(HUBSPOT_PROPERTIES, ["signals"]) is None
