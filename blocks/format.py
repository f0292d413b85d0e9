"""Numbers and tables as people read them, shared by the Slack digest and the terminal."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal

from leadqual.figures import FIT_BANDS, INTENT_BANDS, Inflation, ScoreBands
from leadqual.groups import Group
from leadqual.pipeline_figures import PipelineFigures


def pct(share: float | None) -> str:
    """A share as a whole percentage; '-' when there is nothing to divide."""
    return "-" if share is None else f"{100 * share:.0f}%"


def rate(qualified: int, decided: int) -> str:
    """Qualified ÷ decided as a whole percentage; '-' when nothing was decided."""
    return f"{100 * qualified / decided:.0f}%" if decided else "-"


def minutes(value: float | None) -> str:
    """A duration in minutes, as minutes, hours or days, whichever reads best."""
    if value is None:
        return "-"
    if value < 90:
        return f"{value:.0f} min"
    if value < 48 * 60:
        return f"{value / 60:.1f} h"
    return f"{value / 1440:.1f} d"


def text_table(
    rows: Sequence[Sequence[str]], *, right: Collection[int] = (), ruled: bool = False, free_last: bool = False
) -> str:
    """Align `rows` (the first is the header) in columns two spaces apart.

    `right` holds the columns aligned right (numbers); `ruled` draws dashes under the header;
    `free_last` leaves the last column unpadded (long free text such as "why").
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    if free_last:
        widths[-1] = len(rows[0][-1])
    last = len(widths) - 1

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c if free_last and i == last else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    lines = [line(r) for r in rows]
    if ruled:
        lines.insert(1, line(["-" * w for w in widths]))
    return "\n".join(lines)


def money(amounts: Sequence[tuple[str, Decimal]]) -> str:
    """Sums by currency ("USD 42,000 + EUR 9,500"); '-' when nothing was won. Currencies are never added up."""
    if not amounts:
        return "-"
    return " + ".join(f"{currency + ' ' if currency else ''}{amount:,.0f}" for currency, amount in amounts)


def pipeline_table(figures: PipelineFigures) -> str:
    """The pipeline outcomes by group as an aligned table (the window's qualified leads)."""
    rows = [("Group", "Qualified", "Opportunity", "Won", "Win rate", "Amount won", "Stale")]
    shown = [*(figures.group(g) for g in Group if figures.group(g).qualified), figures.total]
    for k, g in enumerate(shown):
        rows.append(
            (
                "All" if k == len(shown) - 1 else g.group.label,
                str(g.qualified),
                f"{rate(g.opportunities, g.qualified)} ({g.opportunities})",
                str(g.won),
                f"{rate(g.won, g.closed)} of {g.closed}",
                money(g.amount_won),
                f"{g.stale} of {g.stale_eligible}",
            )
        )
    return text_table(rows, right=range(1, len(rows[0])))


def pipeline_note(figures: PipelineFigures) -> str:
    """What the pipeline table's columns divide by, in one sentence."""
    return (
        "Opportunity = reached any pipeline stage ÷ leads decided Qualified in the window; win rate = won ÷ "
        f"(won + lost); stale = still no opportunity of those qualified at least {figures.stale_after_days} "
        "days before the window's end."
    )


_SUCCESS = {
    "qualified": "a rep qualified it",
    "opportunity": "it became an opportunity",
    "won": "its deal was won",
}


def success_phrase(learn_from: str) -> str:
    """What the proposals counted as a success (`proposals.learn_from`), as a clause."""
    return "a lead counts as a success when " + _SUCCESS.get(learn_from, learn_from)


def band_table(bands: ScoreBands) -> str:
    """The fit (A best) by intent (1 strongest) grid: success rate and decided leads in each band."""
    fit_a, fit_b = bands.fit_edges
    int_1, int_2 = bands.intent_edges
    rows: list[tuple[str, ...]] = [
        (
            "Fit \\ intent",
            f"1 (≥{int_1})",
            f"2 ({int_2}-{int_1 - 1})",
            f"3 (<{int_2})",
        )
    ]
    names = {"A": f"A (≥{fit_a})", "B": f"B ({fit_b}-{fit_a - 1})", "C": f"C (<{fit_b})"}
    for f in FIT_BANDS:
        cells = []
        for i in INTENT_BANDS:
            won, decided = bands.counts[f + i]
            cells.append(f"{rate(won, decided)} of {decided}")
        rows.append((names[f], *cells))
    return text_table(rows, right=range(1, 4))


def inflation_line(inflation: Inflation) -> str | None:
    """The score-inflation warning, or None when Priority did not grow while converting worse."""
    if not inflation.warning:
        return None
    return (
        f"Score inflation? Priority rose from {pct(inflation.share_before)} to {pct(inflation.share_now)} of leads "
        f"received while its qualification rate fell from {pct(inflation.rate_before)} to {pct(inflation.rate_now)}, "
        "week over week."
    )
