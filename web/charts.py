"""Charts as geometry for server-drawn SVG: no script, no external service, nothing to download.

A chart here is plain data (bars with their label, count, size and link); the template
``dashboard/_charts.html`` draws it with SVG presentation attributes and classes from app.css (the
CSP forbids inline styles). The drawing's coordinates are in a 360-unit-wide box, a phone's width,
scaled to the page with ``viewBox``; labels sit above their bars so that long names ("Enfants,
travail forcé: Enfant de moins de 15 ans") never squeeze them on a narrow screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 360
ROW = 34  # a label line, then its bar
BAR = 12
LABEL_BASELINE = 12
COUNT_ROOM = 56  # right of the longest bar: its count
COLUMNS_HEIGHT = 120
AXIS_ROOM = 18


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    href: str | None
    x: float
    y: float
    width: float
    height: float

    @property
    def title(self) -> str:
        return f"{self.label}: {self.count}"


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    kind: str  # "bars" (horizontal, labelled) or "columns" (months)
    bars: tuple[Bar, ...]
    height: float
    ticks: tuple[Tick, ...] = ()
    note: str = ""  # e.g. how many values were grouped as "others"

    @property
    def empty(self) -> bool:
        return not self.bars

    @property
    def total(self) -> int:
        return sum(bar.count for bar in self.bars)


@dataclass(frozen=True)
class Item:
    """One value to chart: its label, count, and the inbox link that lists those reports."""

    label: str
    count: int
    href: str | None = None


def bars(chart_id: str, title: str, items: Sequence[Item], note: str = "") -> Chart:
    """Horizontal bars, in the order given, each a label line above a bar scaled to the largest."""
    largest = max((item.count for item in items), default=0) or 1
    room = WIDTH - COUNT_ROOM
    drawn = tuple(
        Bar(
            label=item.label,
            count=item.count,
            href=item.href,
            x=0,
            y=row * ROW + LABEL_BASELINE + 4,
            width=max(1.0, round(room * item.count / largest, 1)),
            height=BAR,
        )
        for row, item in enumerate(items)
    )
    return Chart(chart_id, title, "bars", drawn, height=len(drawn) * ROW + 2, note=note)


def columns(
    chart_id: str, title: str, items: Sequence[Item], ticks: Sequence[tuple[int, str]]
) -> Chart:
    """Vertical columns side by side (months in time order); ``ticks``: (position, text) written
    under the axis (a year at each January, say)."""
    largest = max((item.count for item in items), default=0) or 1
    # A few months are a few columns, not a wall: at most a twelfth of the width each.
    step = min(WIDTH / max(len(items), 1), WIDTH / 12)
    gap = min(2.0, step / 4)
    drawn = []
    for index, item in enumerate(items):
        height = round(COLUMNS_HEIGHT * item.count / largest, 1)
        drawn.append(
            Bar(
                label=item.label,
                count=item.count,
                href=item.href,
                x=round(index * step + gap / 2, 2),
                y=round(COLUMNS_HEIGHT - height, 1),
                width=round(max(step - gap, 0.5), 2),
                height=height,
            )
        )
    marks = tuple(Tick(round(i * step + step / 2, 1), text) for i, text in ticks)
    return Chart(
        chart_id,
        title,
        "columns",
        tuple(drawn),
        height=COLUMNS_HEIGHT + AXIS_ROOM,
        ticks=marks,
    )
