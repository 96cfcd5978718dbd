"""Server-rendered SVG charts for a source's overview (no JavaScript, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass

from events.models import Event
from sources import stats
from sources.models import Source

WIDTH, HEIGHT = 480, 120
PALETTE = ["#0a66c2", "#1a7f37", "#9a6700", "#8250df", "#b42318", "#57606a"]


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass
class Chart:
    title: str
    log_type: str
    color: str
    total: int
    peak: int
    bars: list[Bar]
    first_label: str
    last_label: str


def bars_for(values: list[int], labels: list[str]) -> list[Bar]:
    peak = max(values) or 1
    step = WIDTH / max(len(values), 1)
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = (value / peak) * (HEIGHT - 4)
        bars.append(Bar(i * step + 1, HEIGHT - height, max(step - 2, 1), height, value, label))
    return bars


def overview_charts(source: Source, hours: int = 48) -> dict:
    buckets = stats.hour_buckets(hours)
    labels = [b.strftime("%b %d %H:00") for b in buckets]
    series = stats.hourly_events_by_log_type(source.pk, hours)
    for name in source.log_types:
        series.setdefault(name, [0] * hours)
    charts = [
        Chart(
            title=f"{name} events per hour",
            log_type=name,
            color=PALETTE[i % len(PALETTE)],
            total=sum(values),
            peak=max(values),
            bars=bars_for(values, labels),
            first_label=labels[0],
            last_label=labels[-1],
        )
        for i, (name, values) in enumerate(sorted(series.items()))
    ]
    last = (
        Event.objects.filter(source=source)
        .order_by("-p_event_time")
        .values("p_event_time", "object_key")
        .first()
    )
    last_object = (
        Event.objects.filter(source=source)
        .exclude(object_key="")
        .order_by("-p_parse_time", "-id")
        .values_list("object_key", flat=True)
        .first()
    )
    return {
        "charts": charts,
        "width": WIDTH,
        "height": HEIGHT,
        "hours": hours,
        "last_event_at": last["p_event_time"] if last else source.last_event_at,
        "last_object": last_object or "",
        "bytes_available": False,
    }
