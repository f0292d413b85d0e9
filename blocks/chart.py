"""The digest chart: leads and qualification rate by group, this week against the trailing window.

Pure: figures in, PNG bytes out. It draws on matplotlib's Agg canvas directly (no pyplot,
so no global figure state and no display backend), which is safe in a worker thread.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leadqual.figures import Figures
from leadqual.groups import Group

WEEK_COLOUR = "#1264a3"
WINDOW_COLOUR = "#9bb8d3"


def digest_chart(week: Figures, trailing: Figures, *, title: str = "") -> bytes:
    """A PNG: leads per group this week (left), and qualified ÷ decided per group, week vs window (right)."""
    groups = list(Group)
    labels = [g.label.replace(" ", "\n") for g in groups]
    fig = Figure(figsize=(9, 3.6), dpi=110)
    FigureCanvasAgg(fig)
    volume, rate = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})

    counts = [week.group(g).received for g in groups]
    bars = volume.bar(range(len(groups)), counts, color=WEEK_COLOUR)
    volume.bar_label(bars, fontsize=8)
    volume.set_title(f"Leads received ({week.period.label})", fontsize=10)
    volume.set_xticks(range(len(groups)), labels, fontsize=8)
    volume.set_ylim(0, max([*counts, 1]) * 1.2)

    width = 0.38
    for offset, figures, colour, name in (
        (-width / 2, week, WEEK_COLOUR, "this week"),
        (width / 2, trailing, WINDOW_COLOUR, trailing.period.label),
    ):
        values = [100 * (figures.group(g).qualification_rate or 0.0) for g in groups]
        decided = [figures.group(g).decided for g in groups]
        drawn = rate.bar([i + offset for i in range(len(groups))], values, width, color=colour, label=name)
        rate.bar_label(
            drawn, labels=[f"{v:.0f}%" if n else "" for v, n in zip(values, decided, strict=True)], fontsize=7
        )
    rate.set_title("Qualified ÷ decided, by group", fontsize=10)
    rate.set_xticks(range(len(groups)), labels, fontsize=8)
    rate.set_ylim(0, 115)
    rate.set_ylabel("%", fontsize=8)
    rate.legend(fontsize=7, loc="upper right", frameon=False)
    for axes in (volume, rate):
        axes.spines[["top", "right"]].set_visible(False)
        axes.tick_params(axis="y", labelsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
