"""The seam with detections: saving an Alert records what each destination must be told."""

from __future__ import annotations

import pytest

from destinations.delivery import _with_events
from destinations.models import Delivery
from detections import services
from tests.factories import AlertFactory, DestinationFactory, UserFactory

pytestmark = pytest.mark.django_db


def changes(destination) -> list[tuple[int, str, str]]:
    rows = Delivery.objects.filter(destination=destination).order_by("seq")
    return [(d.seq, d.change, d.severity) for d in rows]


def test_a_new_alert_is_recorded_for_each_destination_that_wants_it():
    everyone = DestinationFactory(min_severity="info")
    high_only = DestinationFactory(min_severity="high")
    disabled = DestinationFactory(enabled=False)
    alert = AlertFactory(severity="medium")

    assert changes(everyone) == [(1, "trigger", "medium")]
    assert changes(high_only) == []
    assert changes(disabled) == []
    [delivery] = Delivery.objects.filter(destination=everyone)
    assert delivery.alert_id == alert.pk
    assert delivery.alert["title"] == alert.title
    assert delivery.alert["url"].endswith(f"/alerts/{alert.pk}/")


def test_severity_and_status_changes_are_recorded_once_each():
    destination = DestinationFactory(min_severity="medium")
    alert = AlertFactory(severity="medium")
    alert.event_count = 5
    alert.save()  # more events: nothing to tell
    alert.severity = "high"
    alert.save()
    user = UserFactory()
    services.triage(alert, actor=user, status="triaged")  # no change a destination follows
    services.triage(alert, actor=user, status="resolved")
    services.triage(alert, actor=user, status="closed")
    services.triage(alert, actor=user, status="open")

    assert changes(destination) == [
        (1, "trigger", "medium"),
        (2, "update", "high"),
        (3, "resolve", "high"),
        (4, "reopen", "high"),
    ]


def test_a_rules_destinations_override_routes_the_alert():
    named = DestinationFactory(name="pager", min_severity="critical")
    other = DestinationFactory(name="chat", min_severity="info")
    AlertFactory(severity="low", destinations=["pager"])

    assert changes(named) == [(1, "trigger", "low")]
    assert changes(other) == []


def test_filters_on_log_type_and_rule():
    by_rule = DestinationFactory(rule_ids=["Teleport.Root*"])
    other_rule = DestinationFactory(rule_ids=["System.*"])
    other_type = DestinationFactory(log_types=["AWS.CloudTrail"])
    AlertFactory()

    assert len(changes(by_rule)) == 1
    assert changes(other_rule) == changes(other_type) == []


def test_the_first_try_reads_the_alerts_events():
    destination = DestinationFactory()
    alert = AlertFactory()
    [delivery] = Delivery.objects.filter(destination=destination)
    assert delivery.alert["events"] is None

    view = _with_events(delivery)
    assert [e["login"] for e in view.events] == ["root"]
    assert view.events[0]["p_log_type"] == "Gravitational.TeleportAudit"
    delivery.refresh_from_db()
    assert delivery.alert["events"][0]["sid"] == f"sid-{alert.dedup_key[:8]}"


def test_alerts_written_in_bulk_are_followed_from_their_updated_at():
    """Ingestion writes alert windows with bulk_create/bulk_update (no post_save): beat's
    follow() records them, once."""
    from django.utils import timezone

    from destinations.hooks import follow
    from detections.models import Alert

    destination = DestinationFactory()
    template = AlertFactory.build(severity="high")
    [alert] = Alert.objects.bulk_create([template])
    assert changes(destination) == []

    assert follow() == 1
    assert follow() == 0
    Alert.objects.filter(pk=alert.pk).update(status="resolved", updated_at=timezone.now())
    assert follow() == 1
    assert changes(destination) == [(1, "trigger", "high"), (2, "resolve", "high")]


def test_follow_looks_back_only_its_window(settings):
    from datetime import timedelta

    from django.utils import timezone

    from destinations.hooks import follow
    from detections.models import Alert

    settings.SLUICE_DESTINATION_FOLLOW_SECONDS = 60
    destination = DestinationFactory()
    [alert] = Alert.objects.bulk_create([AlertFactory.build()])
    Alert.objects.filter(pk=alert.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert follow() == 0
    assert changes(destination) == []


def test_follow_without_an_enabled_destination_reads_no_alert(django_assert_num_queries):
    """Nobody to tell: beat's follow() must not lock the alerts ingestion is writing."""
    from destinations.hooks import follow
    from detections.models import Alert

    DestinationFactory(enabled=False)
    Alert.objects.bulk_create([AlertFactory.build() for _ in range(3)])

    with django_assert_num_queries(1):  # is any destination enabled?
        assert follow() == 0
