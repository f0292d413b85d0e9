"""The intake model validates and normalises leads as DESIGN.md describes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from leadqual.lead import Lead


def test_strings_are_trimmed_and_emails_and_domains_lower_cased() -> None:
    lead = Lead.model_validate(
        {
            "company": {"name": "  Acme Metals ", "domain": "WWW.AcmeMetals.com/"},
            "contact": {"email": " Dana@AcmeMetals.COM "},
        }
    )
    assert lead.company.name == "Acme Metals"
    assert lead.company.domain == "acmemetals.com"
    assert lead.contact.email == "dana@acmemetals.com"


def test_company_domain_is_taken_from_a_business_email_but_not_from_freemail() -> None:
    assert Lead.model_validate({"contact": {"email": "a@plant.example.com"}}).company.domain == "plant.example.com"
    assert Lead.model_validate({"contact": {"email": "a@gmail.com"}}).company.domain is None


def test_a_lead_needs_a_company_name_or_an_email() -> None:
    with pytest.raises(ValidationError, match=r"at least company\.name or contact\.email"):
        Lead.model_validate({"contact": {"name": "Dana"}})
    with pytest.raises(ValidationError):
        Lead.model_validate({"company": {"name": "   "}})


def test_unknown_fields_are_refused_with_their_location() -> None:
    with pytest.raises(ValidationError) as info:
        Lead.model_validate({"company": {"name": "A", "employes": 5}})
    assert info.value.errors()[0]["loc"] == ("company", "employes")


def test_bad_emails_dates_and_numbers_are_refused() -> None:
    for bad in (
        {"contact": {"email": "not-an-email"}},
        {"company": {"name": "A", "employees": -3}},
        {"company": {"name": "A"}, "need": {"needed_by": "next week"}},
        {"company": {"name": "A"}, "signals": [{"value": "no type"}]},
    ):
        with pytest.raises(ValidationError):
            Lead.model_validate(bad)


def test_naive_timestamps_are_taken_as_utc() -> None:
    lead = Lead.model_validate({"company": {"name": "A"}, "received_at": "2026-11-20T14:03:00"})
    assert lead.received_at is not None and lead.received_at.utcoffset() is not None
    assert lead.received_at.isoformat() == "2026-11-20T14:03:00+00:00"


def test_attributes_are_kept_as_sent() -> None:
    lead = Lead.model_validate({"company": {"name": "A"}, "attributes": {"CRM Owner": " Jo ", "n": [1, 2]}})
    assert lead.attributes == {"CRM Owner": " Jo ", "n": [1, 2]}


def test_history_outcome_must_be_one_of_the_four_outcomes() -> None:
    assert Lead.model_validate({"company": {"name": "A"}, "outcome": {"status": "qualified"}}).outcome is not None
    with pytest.raises(ValidationError):
        Lead.model_validate({"company": {"name": "A"}, "outcome": {"status": "won"}})


def test_nul_characters_are_refused_anywhere_because_postgresql_cannot_store_them() -> None:
    for bad in (
        {"company": {"name": "a\x00b"}},
        {"company": {"name": "A"}, "attributes": {"k": ["\x00"]}},
        {"company": {"name": "A"}, "signals": [{"type": "x\x00"}]},
    ):
        with pytest.raises(ValidationError, match="NUL"):
            Lead.model_validate(bad)
