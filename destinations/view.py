"""What a destination is told about an alert: a plain snapshot, taken when the alert changes and
stored with the delivery, so every try of one change sends the same message. The message
builders (destinations/messages.py) are pure functions of it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_EVENTS = 10


@dataclass(frozen=True)
class AlertView:
    id: int | None
    rule_id: str
    title: str
    severity: str  # info | low | medium | high | critical
    status: str  # open | triaged | resolved | closed
    first_event_time: str | None  # ISO 8601
    last_event_time: str | None
    event_count: int
    url: str  # absolute link to the alert page ("" when there is none)
    log_types: list[str] = field(default_factory=list)
    dedup: str = ""
    runbook: str = ""
    alert_context: dict[str, Any] = field(default_factory=dict)
    # up to MAX_EVENTS; None: not read yet (destinations.delivery reads them at the first try)
    events: list[dict[str, Any]] | None = None
    destinations: list[str] = field(default_factory=list)  # a rule's override (names or ids)
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def phase(self) -> str:
        return "resolved" if self.status in ("resolved", "closed") else "open"

    @property
    def is_system(self) -> bool:
        return self.rule_id.startswith("System.")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlertView:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


def sample_alert(url: str = "") -> AlertView:
    """The alert "Send a test alert" sends."""
    return AlertView(
        id=None,
        rule_id="Sluice.TestAlert",
        title="Test alert from Sluice",
        severity="info",
        status="open",
        first_event_time=None,
        last_event_time=None,
        event_count=0,
        url=url,
        alert_context={"note": "Sent from Configure › Destinations to check this destination."},
        events=[],
    )
