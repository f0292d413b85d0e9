"""Numbers and tables as people read them, shared by the Slack digest and the terminal."""

from __future__ import annotations

from collections.abc import Collection, Sequence


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
