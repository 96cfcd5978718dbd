"""What the pages show about deliveries: each destination's last outcome, the failing ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from destinations.models import Delivery, Destination

FAILED = (Delivery.Status.FAILED, Delivery.Status.UNKNOWN)
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Health:
    destination: Destination
    last: Delivery | None
    sent_24h: int
    failed_24h: int

    @property
    def failing(self) -> bool:
        """Its last delivery (a test alert included) failed or is being retried."""
        return self.last is not None and self.last.status in (*FAILED, Delivery.Status.RETRYING)


def health(destinations) -> list[Health]:
    destinations = list(destinations)
    since = timezone.now() - WINDOW
    counts = {
        row["destination"]: row
        for row in Delivery.objects.filter(destination__in=destinations, created_at__gte=since)
        .values("destination")
        .annotate(sent=Count("id"), failed=Count("id", filter=Q(status__in=FAILED)))
    }
    rows = []
    for destination in destinations:
        last = destination.deliveries.order_by("-created_at", "-id").first()
        count = counts.get(destination.pk, {})
        rows.append(Health(destination, last, count.get("sent", 0), count.get("failed", 0)))
    return rows


def failing() -> list[Health]:
    """Enabled destinations whose last delivery failed (the dashboard's warning)."""
    return [h for h in health(Destination.objects.filter(enabled=True)) if h.failing]


def for_alert(alert_id: int):
    return (
        Delivery.objects.filter(alert_id=alert_id)
        .select_related("destination")
        .prefetch_related("tries")
        .order_by("created_at", "id")
    )
