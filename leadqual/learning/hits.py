"""Decided leads as a bit-packed hit matrix: which rules fired on each lead, and its outcome.

Everything the learning does reads this one shape. Each lead is a row of bits (bit j: rule j
of the ruleset fired), its segment, the best group its failed must-haves let it reach, and the
time it was received; the success labels (qualified, or later an opportunity or a win, as
`proposals.learn_from` says) are a separate boolean array, so the same hits serve any label.

Leads with the same bits and segment are interchangeable for every figure we compute (a
logistic regression on rule indicators, counts within strata, rescoring under new points), so
`patterns()` collapses them: 1M decided leads over ~30 rules become a few thousand distinct
patterns, and the work after that is proportional to the patterns, not to the leads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import islice, repeat

import numpy as np
import numpy.typing as npt

from leadqual.groups import Group
from leadqual.rules import RulesetSpec
from leadqual.scoring import Score

Bool = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

NO_CAP = Group.PRIORITY.rank


@dataclass(frozen=True, eq=False)
class HitMatrix:
    """Which rules fired on each decided lead, bit-packed (eight rules a byte)."""

    rules: tuple[str, ...]  # rule ids, the column order (the ruleset's order)
    segments: tuple[str, ...]  # segment ids; a lead's segment is an index into these, -1 for none
    bits: npt.NDArray[np.uint8]  # (leads, ceil(rules / 8)), np.packbits order
    segment: npt.NDArray[np.int16]  # (leads,)
    cap: npt.NDArray[np.int8]  # (leads,) rank of the best group its failed must-haves allow
    received: npt.NDArray[np.int64]  # (leads,) seconds since the epoch

    def __len__(self) -> int:
        return int(self.bits.shape[0])

    @property
    def capped(self) -> Bool:
        """Leads that failed a must-have (their group is capped whatever their points)."""
        return self.cap != NO_CAP

    def column(self, rule_id: str) -> int:
        return self.rules.index(rule_id)

    def dense(self) -> Bool:
        """The (leads, rules) boolean matrix; for tests and small samples only."""
        return np.unpackbits(self.bits, axis=1, count=len(self.rules)).astype(bool)

    def take(self, rows: Bool | Ints) -> HitMatrix:
        """The leads selected by a mask or index array."""
        return HitMatrix(
            self.rules, self.segments, self.bits[rows], self.segment[rows], self.cap[rows], self.received[rows]
        )


def from_dense(
    hits: Bool,
    *,
    rules: Sequence[str],
    segments: Sequence[str] = (),
    segment: Ints | None = None,
    cap: Ints | None = None,
    received: Ints | None = None,
) -> HitMatrix:
    """A hit matrix from a (leads, rules) boolean matrix (tests, benchmarks, other stores)."""
    hits = np.asarray(hits, dtype=bool)
    n = hits.shape[0]
    return HitMatrix(
        rules=tuple(rules),
        segments=tuple(segments),
        bits=np.packbits(hits, axis=1),
        segment=np.full(n, -1, np.int16) if segment is None else np.asarray(segment, np.int16),
        cap=np.full(n, NO_CAP, np.int8) if cap is None else np.asarray(cap, np.int8),
        received=np.zeros(n, np.int64) if received is None else np.asarray(received, np.int64),
    )


def from_scores(scored: Iterable[tuple[Score, datetime]], spec: RulesetSpec) -> HitMatrix:
    """A hit matrix from scores of one ruleset, each with the time its lead was received."""
    return from_leads(
        (([h.rule_id for h in s.hits], s.segment, list(s.failed_must_haves), at) for s, at in scored), spec
    )


# What the matrix needs of one decided lead: the ids of the rules that fired, its segment,
# the must-haves it failed, and when it was received.
LeadHits = tuple[Iterable[str], str | None, Iterable[str], datetime]


def from_leads(leads: Iterable[LeadHits], spec: RulesetSpec) -> HitMatrix:
    """Which of `spec`'s rules fired on each lead (rule ids no longer in `spec` are ignored)."""
    builder = HitMatrixBuilder(spec)
    it = iter(leads)
    while chunk := list(islice(it, CHUNK)):
        builder.add(chunk)
    return builder.build()


CHUNK = 10_000  # leads turned into packed bits at a time: Python lists for no more than these


class HitMatrixBuilder:
    """A hit matrix built a page of leads at a time, so memory stays bounded however many leads.

    Each page becomes packed arrays at once (about 12 bytes a lead with up to 40 rules); only
    those are kept, never the page's Python objects.
    """

    def __init__(self, spec: RulesetSpec) -> None:
        self.rules = tuple(r.id for r in spec.rules)
        self.segments = tuple(sg.id for sg in spec.segments)
        self._column = {rid: j for j, rid in enumerate(self.rules)}
        self._segment: dict[str | None, int] = {sid: i for i, sid in enumerate(self.segments)}
        self._caps = {m.id: m.otherwise for m in spec.must_have}
        self._pages: list[HitMatrix] = []

    def __len__(self) -> int:
        return sum(len(p) for p in self._pages)

    def add(self, leads: Sequence[LeadHits]) -> None:
        """Add one page of leads."""
        self.add_joined(
            [",".join(fired) for fired, _, _, _ in leads],
            [segment for _, segment, _, _ in leads],
            [",".join(failed) for _, _, failed, _ in leads],
            [int(at.timestamp()) for _, _, _, at in leads],
        )

    def add_joined(
        self, fired: Sequence[str], segments: Sequence[str | None], failed: Sequence[str], received: Sequence[int]
    ) -> None:
        """Add one page of leads given as stored: comma-joined rule ids fired and must-haves failed
        (`LeadRow.fired_rules`, `must_haves_failed`), segment, and seconds since the epoch received.

        A page holds far fewer distinct hit lists than leads, so each distinct one is decoded once
        and the page's rows are gathered from those by index.
        """
        n = len(fired)
        column, caps = self._column, self._caps
        distinct = {joined: i for i, joined in enumerate(dict.fromkeys(fired))}
        dense = np.zeros((len(distinct), len(self.rules)), dtype=bool)
        for i, joined in enumerate(distinct):
            dense[i, [column[rid] for rid in joined.split(",") if rid in column]] = True
        distinct_failed = {joined: i for i, joined in enumerate(dict.fromkeys(failed))}
        ranks = np.empty(len(distinct_failed), np.int8)
        for i, joined in enumerate(distinct_failed):
            best = Group.PRIORITY
            for must in joined.split(",") if joined else ():
                best = best.capped_at(caps[must]) if must in caps else best
            ranks[i] = best.rank
        # map() over C-level dict lookups: a Python generator per lead cost as much as the read.
        index = np.fromiter(map(distinct.__getitem__, fired), np.int64, count=n)
        failed_index = np.fromiter(map(distinct_failed.__getitem__, failed), np.int64, count=n)
        seg = np.fromiter(map(self._segment.get, segments, repeat(-1, n)), np.int16, count=n)  # None: -1
        self._pages.append(
            HitMatrix(
                self.rules,
                self.segments,
                np.packbits(dense, axis=1)[index],
                seg,
                ranks[failed_index],
                np.asarray(received, np.int64).reshape(n),
            )
        )

    def build(self) -> HitMatrix:
        """Every page added, as one matrix (the pages are released)."""
        pages, self._pages = self._pages, []
        width = (len(self.rules) + 7) // 8
        return HitMatrix(
            self.rules,
            self.segments,
            np.concatenate([p.bits for p in pages]) if pages else np.zeros((0, width), np.uint8),
            np.concatenate([p.segment for p in pages]) if pages else np.zeros(0, np.int16),
            np.concatenate([p.cap for p in pages]) if pages else np.zeros(0, np.int8),
            np.concatenate([p.received for p in pages]) if pages else np.zeros(0, np.int64),
        )


@dataclass(frozen=True, eq=False)
class Patterns:
    """Distinct (bits, segment, cap) rows with how many leads share each, and how many succeeded."""

    hits: Bool  # (patterns, rules)
    segment: npt.NDArray[np.int16]
    cap: npt.NDArray[np.int8]
    leads: Floats  # (patterns,) leads with this pattern
    success: Floats  # (patterns,) of which succeeded
    inverse: Ints  # (leads,) the pattern of each lead

    @property
    def failure(self) -> Floats:
        return self.leads - self.success

    @cached_property
    def hits_float(self) -> Floats:
        """`hits` as 0.0/1.0, made once: every rescoring multiplies it by points (a float product is BLAS's)."""
        return self.hits.astype(np.float64)


def patterns(hits: HitMatrix, success: Bool, *, weights: Floats | None = None) -> Patterns:
    """Collapse identical leads into patterns with counts (one sort over the leads)."""
    success = np.asarray(success, dtype=bool)
    if success.shape != (len(hits),):
        raise ValueError(f"success has shape {success.shape}, expected ({len(hits)},)")
    n, width = hits.bits.shape
    # One row of bytes per lead: the hit bits, then the segment and the cap, viewed as one opaque key.
    key = np.empty((n, width + 3), np.uint8)
    key[:, :width] = hits.bits
    key[:, width : width + 2] = (hits.segment.astype(np.int32) + 1).astype("<u2").view(np.uint8).reshape(n, 2)
    key[:, width + 2] = hits.cap.astype(np.uint8)
    if width + 3 <= 8:  # the usual case (up to 40 rules): one integer per lead sorts far faster than bytes
        padded = np.zeros((n, 8), np.uint8)
        padded[:, : width + 3] = key
        flat: npt.NDArray[np.generic] = padded.view(np.uint64).ravel()
    else:
        flat = np.ascontiguousarray(key).view(np.dtype((np.void, width + 3))).ravel()
    uniq, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    leads = np.bincount(inverse, weights=w, minlength=len(uniq)).astype(np.float64)
    won = np.bincount(inverse, weights=w * success, minlength=len(uniq)).astype(np.float64)
    dense = np.unpackbits(hits.bits[first], axis=1, count=len(hits.rules)).astype(bool)
    return Patterns(dense, hits.segment[first], hits.cap[first], leads, won, inverse.astype(np.int64))
