"""Server-rendered SVG charts for a source's overview (no JavaScript, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.defaultfilters import filesizeformat

from sources import stats
from sources.models import Source

WIDTH, HEIGHT = 480, 110
PALETTE = ["#0a66c2", "#1a7f37", "#8250df", "#9a6700", "#57606a"]


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass
class Chart:
    title: str
    color: str
    total: str
    peak: str
    bars: list[Bar]
    first_label: str
    last_label: str


def bar_chart(title: str, values: list[int], labels: list[str], color: str, fmt=str) -> Chart:
    peak = max(values) or 1
    step = WIDTH / max(len(values), 1)
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = (value / peak) * (HEIGHT - 4)
        bars.append(
            Bar(i * step + 1, HEIGHT - height, max(step - 2, 1), height, f"{label}: {fmt(value)}")
        )
    return Chart(title, color, fmt(sum(values)), fmt(max(values)), bars, labels[0], labels[-1])


def overview_charts(source: Source, hours: int = 48, last_object: Any = None) -> dict:
    """The Overview tab's charts and "last event"/"last object" lines (`last_object`: the
    object ingestion read last, which the view is given)."""
    labels = [b.strftime("%b %d %H:00") for b in stats.hour_buckets(hours)]
    series = stats.hourly_series(source.pk, hours)
    events = series["events"]
    for name in source.log_types:
        events.setdefault(name, [0] * hours)
    charts = [
        bar_chart(f"{name} events", values, labels, PALETTE[i % len(PALETTE)], _count)
        for i, (name, values) in enumerate(sorted(events.items()))
    ]
    charts.append(bar_chart("Bytes read", series["bytes"], labels, "#57606a", filesizeformat))
    if any(series["failures"]):
        charts.append(bar_chart("Failed lines", series["failures"], labels, "#b42318", _count))
    return {
        "charts": charts,
        "width": WIDTH,
        "height": HEIGHT,
        "hours": hours,
        "last_event_at": source.last_event_at,
        "last_object": last_object,
    }


def _count(value: int) -> str:
    return f"{value:,}"
