"""POST /leads, /healthz and /openapi.json, exactly as DESIGN.md states them."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.pool import NullPool

from bot.http import create_http_app
from bot.http_input import MAX_BODY
from leadqual.db.engine import make_engine, make_session_factory
from leadqual.db.models import LeadRow, OutboxMessage
from leadqual.services.context import Context
from leadqual.settings import Settings

AUTH = {"Authorization": "Bearer intake-secret"}
LEAD = {
    "external_id": "crm-000123",
    "company": {"name": "Acme Metals", "industry": "metals", "country": "US"},
    "contact": {"email": "dana@acmemetals.com", "title": "Maintenance Manager"},
    "signals": [{"type": "rfq_request"}],
    "need": {"scope": "replacement"},
}


@pytest.fixture
def client(ctx: Context, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_http_app(ctx, settings)) as c:
        yield c


def stored(ctx: Context) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).select_from(LeadRow)) or 0


def test_a_valid_lead_is_accepted_with_its_scores_and_group(client: TestClient, ctx: Context) -> None:
    response = client.post("/leads", json=LEAD, headers=AUTH)
    assert response.status_code == 202
    [item] = response.json()["leads"]
    assert set(item) == {"id", "external_id", "fit", "intent", "group", "duplicate"}
    assert item["external_id"] == "crm-000123" and item["duplicate"] is False
    assert item["group"] in {"priority", "qualified_review", "nurture", "research", "poor_fit"}
    assert stored(ctx) == 1


def test_an_array_of_leads_is_accepted_in_order(client: TestClient) -> None:
    second = {"external_id": "crm-2", "company": {"name": "Beta Water"}}
    response = client.post("/leads", json=[LEAD, second], headers=AUTH)
    assert [i["external_id"] for i in response.json()["leads"]] == ["crm-000123", "crm-2"]


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic intake-secret", "Bearer "])
def test_a_missing_or_wrong_token_is_401_and_stores_nothing(
    client: TestClient, ctx: Context, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.post("/leads", json=LEAD, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert stored(ctx) == 0


def test_intake_refuses_everything_while_no_token_is_configured(ctx: Context, settings: Settings) -> None:
    open_settings = settings.model_copy(update={"intake_token": None})
    with TestClient(create_http_app(ctx, open_settings)) as c:
        response = c.post("/leads", json=LEAD, headers=AUTH)
    assert response.status_code == 401
    assert "LEADBOT_INTAKE_TOKEN" in response.json()["message"]


def test_one_invalid_lead_rejects_the_whole_request_with_field_errors(client: TestClient, ctx: Context) -> None:
    bad = {"external_id": "x", "contact": {"email": "not-an-email"}, "company": {"name": "A", "employees": "many"}}
    response = client.post("/leads", json=[LEAD, bad], headers=AUTH)
    assert response.status_code == 422
    locs = [d["loc"] for d in response.json()["detail"]]
    assert ["body", 1, "contact", "email"] in locs and ["body", 1, "company", "employees"] in locs
    assert stored(ctx) == 0


def test_a_lead_with_neither_company_name_nor_email_is_422(client: TestClient) -> None:
    response = client.post("/leads", json={"company": {"industry": "metals"}}, headers=AUTH)
    assert response.status_code == 422
    assert "company.name or contact.email" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("body", [b"{not json", b"[]", b"42", b'["a"]', b"\xff\xfe"])
def test_bodies_that_are_not_leads_are_422(client: TestClient, ctx: Context, body: bytes) -> None:
    response = client.post("/leads", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert stored(ctx) == 0


def test_a_body_over_one_mebibyte_is_413_even_without_a_content_length(client: TestClient, ctx: Context) -> None:
    big = b'{"company": {"name": "' + b"x" * MAX_BODY + b'"}}'
    assert client.post("/leads", content=big, headers=AUTH).status_code == 413

    def chunks() -> Iterator[bytes]:
        yield big[: MAX_BODY // 2]
        yield big[MAX_BODY // 2 :]

    assert client.post("/leads", content=chunks(), headers=AUTH).status_code == 413
    assert stored(ctx) == 0


def test_resending_a_lead_is_idempotent_on_external_id(client: TestClient, ctx: Context) -> None:
    first = client.post("/leads", json=LEAD, headers=AUTH).json()["leads"][0]
    again = client.post("/leads", json=LEAD, headers=AUTH).json()["leads"][0]
    assert again["duplicate"] is True and again["id"] == first["id"]
    with ctx.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_concurrent_posts_of_the_same_lead_store_it_once(client: TestClient, ctx: Context) -> None:
    answers: list[dict] = []
    barrier = threading.Barrier(6)

    def post() -> None:
        barrier.wait()
        answers.append(client.post("/leads", json=LEAD, headers=AUTH).json()["leads"][0])

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({a["id"] for a in answers}) == 1
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 5
    assert stored(ctx) == 1


def test_healthz_is_200_when_the_database_answers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"ok": True}


def test_healthz_is_503_when_the_database_does_not_answer(ctx: Context, settings: Settings) -> None:
    dead = make_engine("postgresql://nobody@127.0.0.1:1/none", poolclass=NullPool, connect_args={"connect_timeout": 1})
    down = Context(session_factory=make_session_factory(dead), config=ctx.config)
    with TestClient(create_http_app(down, settings)) as c:
        response = c.get("/healthz")
    assert response.status_code == 503 and response.json() == {"ok": False}


def test_the_openapi_document_describes_the_lead_format(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    body = doc["paths"]["/leads"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["oneOf"][0] == {"$ref": "#/components/schemas/Lead"}
    lead = doc["components"]["schemas"]["Lead"]
    assert {"external_id", "company", "contact", "signals", "need", "outcome"} <= set(lead["properties"])
    assert {"202", "401", "413", "422"} <= set(doc["paths"]["/leads"]["post"]["responses"])
