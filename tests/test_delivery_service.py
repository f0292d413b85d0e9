"""Leasing and settling outbox rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from leadqual.services import delivery, outbox, outbox_admin
from leadqual.services.context import Context
from tests.conftest import Clock
from tests.outbox_helpers import ingest_leads, lead, leads_with_cards, outbox_rows, queue


def test_a_due_row_is_leased_once_and_counts_an_attempt(ctx: Context, clock: Clock) -> None:
    [lead_id] = ingest_leads(ctx, 1)

    first = delivery.lease_due(ctx, limit=10, worker_id="w1")
    again = delivery.lease_due(ctx, limit=10, worker_id="w2")

    assert [(lease.lead_id, lease.kind, lease.attempts) for lease in first] == [(lead_id, "card", 1)]
    assert again == []
    [row] = outbox_rows(ctx)
    assert row.status == "pending" and row.next_attempt_at == clock.now + delivery.DEFAULT_LEASE


def test_a_channel_gives_out_one_row_at_a_time_in_id_order(ctx: Context) -> None:
    leads_with_cards(ctx, ["C1", "C2"], per_channel=3)

    first = delivery.lease_due(ctx, limit=10, worker_id="w1")
    other = delivery.lease_due(ctx, limit=10, worker_id="w2")

    assert [lease.channel_id for lease in first] == ["C1", "C2"]
    assert other == []  # each channel's head is leased: nothing behind it may overtake
    for lease in first:
        delivery.mark_sent(ctx, lease.id, "1.0")
    second = delivery.lease_due(ctx, limit=10, worker_id="w2")
    assert [lease.id for lease in second] == sorted(lease.id for lease in second)
    assert all(s.id > f.id for s, f in zip(second, first, strict=True))


def test_held_rows_let_the_owner_read_ahead_but_nobody_else(ctx: Context) -> None:
    leads_with_cards(ctx, ["C1"], per_channel=5)

    owned = delivery.lease_due(ctx, limit=10, worker_id="w1", per_channel=2)
    stranger = delivery.lease_due(ctx, limit=10, worker_id="w2", per_channel=2)
    more = delivery.lease_due(ctx, limit=10, worker_id="w1", per_channel=3, held=[lease.id for lease in owned])

    assert len(owned) == 2 and stranger == []
    assert len(more) == 1 and more[0].id > owned[-1].id  # tops up to 3 held, in order


def test_an_update_waits_until_its_card_is_posted(ctx: Context) -> None:
    [lead_id] = ingest_leads(ctx, 1)
    queue(ctx, outbox.CARD_UPDATE, lead_id=lead_id)  # queued before the card reached Slack: no channel yet

    [card] = delivery.lease_due(ctx, limit=10, worker_id="w1")
    assert card.kind == "card"
    assert delivery.lease_due(ctx, limit=10, worker_id="w1") == []

    delivery.mark_sent(ctx, card.id, "1700000000.000100", channel_id="C0LEADS")
    [update] = delivery.lease_due(ctx, limit=10, worker_id="w1")

    assert update.kind == "card_update"
    assert (lead(ctx, lead_id).channel_id, lead(ctx, lead_id).message_ts) == ("C0LEADS", "1700000000.000100")


def test_an_update_for_a_lead_without_a_card_is_skipped_not_stuck(ctx: Context) -> None:
    [lead_id] = ingest_leads(ctx, 1, post=False)
    queue(ctx, outbox.THREAD, lead_id=lead_id, payload={"text": "claimed"})

    assert delivery.lease_due(ctx, limit=10, worker_id="w1") == []
    [row] = outbox_rows(ctx)
    assert row.status == "sent" and row.result_ts is None and "no card" in (row.last_error or "")


def test_retry_later_reschedules_only_the_lease_it_was_given(ctx: Context, clock: Clock) -> None:
    ingest_leads(ctx, 1)
    [stale] = delivery.lease_due(ctx, limit=1, worker_id="w1", lease=timedelta(seconds=30))
    clock.advance(seconds=31)
    [fresh] = delivery.lease_due(ctx, limit=1, worker_id="w2", lease=timedelta(seconds=30))

    assert not delivery.retry_later(ctx, stale.id, timedelta(seconds=5), "late", until=stale.until)
    assert fresh.attempts == 2 and fresh.tried_before
    assert delivery.retry_later(ctx, fresh.id, timedelta(seconds=5), "ratelimited", until=fresh.until, counts=False)
    [row] = outbox_rows(ctx)
    assert (row.attempts, row.last_error, row.next_attempt_at) == (1, "ratelimited", clock.now + timedelta(seconds=5))


def test_released_rows_are_due_again_with_their_attempt_given_back(ctx: Context) -> None:
    leads_with_cards(ctx, ["C1", "C2"], per_channel=1)
    leases = delivery.lease_due(ctx, limit=10, worker_id="w1")

    assert delivery.release(ctx, leases) == 2

    again = delivery.lease_due(ctx, limit=10, worker_id="w2")
    assert [lease.id for lease in again] == [lease.id for lease in leases]
    assert all(lease.attempts == 1 for lease in again)


def test_a_dead_card_takes_its_updates_along_and_requeue_brings_all_back(ctx: Context) -> None:
    [lead_id] = ingest_leads(ctx, 1)
    queue(ctx, outbox.THREAD, lead_id=lead_id, channel_id="C0LEADS", payload={"text": "x"})
    [card] = delivery.lease_due(ctx, limit=10, worker_id="w1")

    assert delivery.mark_dead(ctx, card.id, "slack: channel_not_found")
    assert [(r.kind, r.status) for r in outbox_rows(ctx)] == [("card", "dead"), ("thread", "dead")]
    dead = outbox_admin.entries(ctx, statuses=(delivery.DEAD,))
    assert [d.last_error for d in dead] == ["slack: channel_not_found", delivery.CARD_NEVER_POSTED]

    assert outbox_admin.requeue(ctx, ids=[card.id]) == [card.id, card.id + 1]  # the thread line came back too
    [again] = delivery.lease_due(ctx, limit=10, worker_id="w1")
    assert again.id == card.id and again.tried_before  # so the worker checks Slack before posting again
    assert delivery.counts(ctx) == {"pending": 2, "sent": 0, "dead": 0}


def test_mark_sent_is_idempotent_and_keeps_the_first_ts(ctx: Context) -> None:
    [lead_id] = ingest_leads(ctx, 1)
    [card] = delivery.lease_due(ctx, limit=1, worker_id="w1")

    assert delivery.mark_sent(ctx, card.id, "1.000001", channel_id="C0LEADS")
    assert not delivery.mark_sent(ctx, card.id, "2.000002", channel_id="C0LEADS")
    assert lead(ctx, lead_id).message_ts == "1.000001"


def test_concurrent_leasers_never_take_the_same_row(ctx: Context) -> None:
    leads_with_cards(ctx, [f"C{i}" for i in range(8)], per_channel=6)
    taken: Counter[int] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def drain(worker_id: str) -> None:
        try:
            while delivery.has_pending(ctx):
                for lease in delivery.lease_due(ctx, limit=5, worker_id=worker_id):
                    with lock:
                        taken[lease.id] += 1
                    delivery.mark_sent(ctx, lease.id, f"{lease.id}.0")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert len(taken) == 48 and set(taken.values()) == {1}
    assert delivery.counts(ctx)["sent"] == 48
