"""Slack, as files, for `leadbot demo`: the outbox delivered into the demo folder, and the digest written out.

`FileOutbox` leases and renders outbox rows exactly as the worker does (the worker's own
renderer), then files each message instead of sending it: the latest state of every card,
a log of every message, and a plain-text reading of the cards.
"""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path
from typing import Any

from blocks.chart import digest_chart
from blocks.digest import digest_blocks
from blocks.proposal_words import digest_json
from blocks.terminal import blocks_text, digest_report
from bot.slack.messages import render_outbox
from leadqual.readmodels import Digest
from leadqual.services import delivery
from leadqual.services.context import Context


class FileOutbox:
    """Delivers the outbox as the worker would, into files: cards, their updates, thread lines."""

    def __init__(self, ctx: Context, folder: Path) -> None:
        self.ctx = ctx
        self.folder = folder
        self.cards = 0
        self.messages = 0
        self._ts = count(1)
        self._latest: dict[str, dict[str, Any]] = {}  # ts -> latest card message
        self._first: list[dict[str, Any]] = []
        self._log: list[dict[str, Any]] = []

    def deliver(self) -> None:
        while leases := delivery.lease_due(self.ctx, limit=50, worker_id="demo", per_channel=50):
            for lease in leases:
                with self.ctx.transaction() as session:
                    message = render_outbox(self.ctx, session, lease)
                ts = self._record(lease.kind, message)
                delivery.mark_sent(self.ctx, lease.id, ts, channel_id=message.get("channel"))

    def _record(self, kind: str, message: dict[str, Any]) -> str:
        self.messages += 1
        self._log.append({"kind": kind, **{k: v for k, v in message.items() if k != "metadata"}})
        if kind == "card":
            ts = f"{1763272800 + next(self._ts)}.000100"
            self.cards += 1
            self._latest[ts] = message
            self._first.append(message)
            return ts
        if kind == "card_update":
            self._latest[message["ts"]] = message
            return str(message["ts"])
        return f"{1763272800 + next(self._ts)}.000200"

    def last(self, kind: str) -> dict[str, Any]:
        """The last message of `kind` delivered."""
        return next(m for m in reversed(self._log) if m["kind"] == kind)

    @property
    def logged(self) -> int:
        """How many messages were delivered so far (a mark for `since`)."""
        return len(self._log)

    def since(self, mark: int, kind: str) -> list[dict[str, Any]]:
        """The messages of `kind` delivered after `mark` (a value of `logged`), in order."""
        return [m for m in self._log[mark:] if m["kind"] == kind]

    def first_cards(self, n: int) -> list[str]:
        return [blocks_text(m.get("blocks") or []) for m in self._first[:n]]

    def write(self) -> list[Path]:
        cards = self.folder / "cards"
        cards.mkdir(parents=True, exist_ok=True)
        written = []
        for i, (ts, message) in enumerate(sorted(self._latest.items()), 1):
            path = cards / f"card-{i:03d}.json"
            path.write_text(
                json.dumps(
                    {
                        "ts": ts,
                        "channel": message.get("channel"),
                        "text": message.get("text"),
                        "blocks": message.get("blocks"),
                    },
                    indent=2,
                    ensure_ascii=False,
                )
            )
            written.append(path)
        text = self.folder / "cards.txt"
        text.write_text("\n\n".join(blocks_text(m.get("blocks") or []) for _, m in sorted(self._latest.items())))
        log = self.folder / "messages.jsonl"
        log.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in self._log))
        return [*written, text, log]


def indent(text: str) -> str:
    """`text` set off as a quote in the demo's terminal story."""
    return "\n".join("   | " + line for line in text.splitlines())


def write_digest(folder: Path, digest: Digest) -> list[Path]:
    stem = folder / f"digest-{digest.iso_week}"
    files = {
        stem.with_suffix(".json"): json.dumps(digest_json(digest), indent=2, ensure_ascii=False),
        folder / f"digest-{digest.iso_week}-blocks.json": json.dumps(
            [b.to_dict() for b in digest_blocks(digest)], indent=2, ensure_ascii=False
        ),
        stem.with_suffix(".txt"): digest_report(digest),
    }
    for path, text in files.items():
        path.write_text(text)
    chart = stem.with_suffix(".png")
    chart.write_bytes(digest_chart(digest.week, digest.trailing, title=f"Leadbot weekly digest · {digest.iso_week}"))
    return [*files, chart]
