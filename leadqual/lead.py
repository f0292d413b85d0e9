"""The lead: intake format v1, validated and normalised.

Strings are trimmed and kept as sent; emails and domains are lower-cased; the company
domain is taken from a business email when missing. Escaping for Slack happens in
`blocks/`, never here: the stored lead is what the sender said.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

# Personal mailbox providers: never taken as a company's domain.
FREEMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "mail.com",
        "yandex.com",
        "zoho.com",
        "web.de",
        "qq.com",
        "163.com",
    }
)

_EMAIL = re.compile(r"^[^@\s<>]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^([a-z0-9-]+\.)+[a-z]{2,}$")


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text or JSONB: refuse it here as a 422, not a 500 later.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _storable(value: str) -> str:
    # Attributes are kept as sent (Any), so pydantic-core's str checks never see them: a lone
    # surrogate ("\ud800", a valid JSON escape) passed validation and then failed to serialise (a 500).
    _no_nul(value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


# Trimming and case-folding run inside pydantic-core (Rust); only the NUL check is Python.
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(_no_nul)]
Long = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000), AfterValidator(_no_nul)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=300), AfterValidator(_no_nul)]
Upper = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=300), AfterValidator(_no_nul)]
# A historical outcome's reason had no NUL check: PostgreSQL refused it when stored (a 500).
ReasonCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_no_nul)]
# Who decided (a Slack user id, or a CRM user name): as long as the leads.decided_by and
# decisions.decided_by columns (64). It was 300, and PostgreSQL refused anything over 64 (a 500).
UserRef = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_no_nul)]


class Outcome(StrEnum):
    """The four outcomes of qualification (DOMAIN.md)."""

    QUALIFIED = "qualified"
    NOT_QUALIFIED = "not_qualified"
    NURTURE = "nurture"
    NEEDS_INFO = "needs_info"

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]


_OUTCOME_LABELS = {
    Outcome.QUALIFIED: "Qualified to pursue",
    Outcome.NOT_QUALIFIED: "Not qualified",
    Outcome.NURTURE: "Nurture",
    Outcome.NEEDS_INFO: "Needs more info",
}


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Company(_Part):
    name: Short | None = None
    domain: Short | None = None
    industry: Code | None = None
    country: Upper | None = None
    region: Short | None = None
    employees: int | None = Field(None, ge=0, le=10_000_000)

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if not v:
            return None
        v = v.lower().removeprefix("http://").removeprefix("https://").removeprefix("www.")
        v = v.split("/", 1)[0]
        if not _DOMAIN.match(v):
            raise ValueError("must be a domain such as acmemetals.com")
        return v


class Contact(_Part):
    name: Short | None = None
    email: Short | None = None
    title: Short | None = None
    phone: Short | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if not v:
            return None
        v = v.lower()
        if not _EMAIL.match(v):
            raise ValueError("must be an email address such as dana@acmemetals.com")
        return v

    @property
    def email_domain(self) -> str | None:
        return self.email.rsplit("@", 1)[1] if self.email else None


class Signal(_Part):
    type: Annotated[
        str,
        StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=100),
        AfterValidator(_no_nul),
    ]
    value: Short | None = None
    at: datetime | None = None


class Need(_Part):
    scope: Code | None = None
    problem: Long | None = None
    needed_by: date | None = None


class HistoricalOutcome(_Part):
    """A decision recorded elsewhere (CRM history), imported so the feedback loop can learn."""

    status: Outcome
    reason: ReasonCode | None = None
    decided_at: datetime | None = None
    decided_by: UserRef | None = None

    @field_validator("decided_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        # Checked here like received_at: converting it only when stored overflowed into a 500.
        return moment_in_utc(v) if v else None


class Lead(BaseModel):
    """One lead in the v1 intake format (DESIGN.md), validated and normalised."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    external_id: Short | None = None
    source: Code | None = None
    campaign: Short | None = None
    offer: Code | None = None
    received_at: datetime | None = None
    company: Company = Field(default_factory=Company)
    contact: Contact = Field(default_factory=Contact)
    signals: list[Signal] = Field(default_factory=list, max_length=500)
    need: Need = Field(default_factory=Need)
    message: Long | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    outcome: HistoricalOutcome | None = None

    @field_validator("attributes")
    @classmethod
    def _attributes_storable(cls, v: dict[str, Any]) -> dict[str, Any]:
        def walk(item: Any, depth: int) -> None:
            if depth > 10:
                raise ValueError("attributes nest too deeply (10 levels at most)")
            if isinstance(item, str):
                _storable(item)
            elif isinstance(item, dict):
                for key, value in item.items():
                    _storable(str(key))
                    walk(value, depth + 1)
            elif isinstance(item, list):
                for value in item:
                    walk(value, depth + 1)

        walk(v, 0)
        return v

    @field_validator("external_id")
    @classmethod
    def _blank_id_is_none(cls, v: str | None) -> str | None:
        return v or None  # "" must not collide with every other blank id

    @field_validator("received_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return moment_in_utc(v) if v else None

    @model_validator(mode="before")
    @classmethod
    def _fill_company_domain(cls, data: Any) -> Any:
        # Before validation, so the domain is validated like a sent one and nothing is copied after.
        if not isinstance(data, dict):
            return data
        contact, company = data.get("contact"), data.get("company")
        email = contact.get("email") if isinstance(contact, dict) else None
        if not isinstance(email, str) or "@" not in email or (isinstance(company, dict) and company.get("domain")):
            return data
        domain = email.strip().rsplit("@", 1)[1].lower()
        if domain in FREEMAIL_DOMAINS or not _DOMAIN.match(domain):
            return data
        return {**data, "company": {**(company if isinstance(company, dict) else {}), "domain": domain}}

    @model_validator(mode="after")
    def _identified(self) -> Lead:
        if not self.company.name and not self.contact.email:
            raise ValueError("a lead needs at least company.name or contact.email")
        return self

    @cached_property
    def signal_values(self) -> dict[str, tuple[str, ...]]:
        """Map each signal type to the values it was seen with ('' for none)."""
        index: dict[str, list[str]] = {}
        for s in self.signals:
            index.setdefault(s.type, []).append((s.value or "").lower())
        return {k: tuple(v) for k, v in index.items()}

    @property
    def display_name(self) -> str:
        return self.company.name or self.contact.name or self.contact.email or "Unknown lead"


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime as UTC and convert an aware one to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Moments are stored in UTC and shown in local time (at most a day away), so keep a day clear of
# datetime's limits: "0001-01-01T00:00+01:00" cannot even be converted to UTC (OverflowError, a 500
# at intake), and "0001-01-01T00:00Z" could be stored but not shown in America/Chicago.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def moment_in_utc(value: datetime) -> datetime:
    """`as_utc`, refusing (ValueError, so a 422) moments too close to datetime's limits."""
    try:
        utc = as_utc(value)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ValueError(f"must be between {EARLIEST.date().isoformat()} and {LATEST.date().isoformat()} (UTC)")
    return utc
