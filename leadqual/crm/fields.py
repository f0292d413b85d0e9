"""The lead fields a CRM property or field may map to (DESIGN.md, "CRM connectors")."""

from __future__ import annotations

# Every v1 lead field a CRM value can fill; `contact.first_name` and `contact.last_name` are
# joined into `contact.name`, and `attributes.<key>` keeps any other value as is.
LEAD_FIELDS = frozenset(
    {
        "external_id",
        "source",
        "campaign",
        "offer",
        "received_at",
        "message",
        "company.name",
        "company.domain",
        "company.industry",
        "company.country",
        "company.region",
        "company.employees",
        "contact.name",
        "contact.first_name",
        "contact.last_name",
        "contact.email",
        "contact.title",
        "contact.phone",
        "need.scope",
        "need.problem",
        "need.needed_by",
    }
)
ATTRIBUTES = "attributes."


def check_lead_field(path: str) -> str:
    """Refuse a mapping target that is not a lead field (ValueError, so config errors name the key)."""
    path = path.strip()
    if path in LEAD_FIELDS or (path.startswith(ATTRIBUTES) and len(path) > len(ATTRIBUTES)):
        return path
    raise ValueError(f"unknown lead field {path!r}; use one of {', '.join(sorted(LEAD_FIELDS))} or attributes.<name>")
