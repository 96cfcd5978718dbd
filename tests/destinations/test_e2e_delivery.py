"""Deliveries through the real `interactive` worker of the layout to real local receivers:
bodies as each kind's receiver reads them, retries after 503 and 429, none after 400, and one
send per change across a SIGKILL of the worker mid-send."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import time
from email import policy

import pytest
from django.db import transaction

from destinations import delivery, dispatch
from destinations.models import Delivery, DeliveryAttempt
from tests.conftest import worker_env
from tests.factories import DestinationFactory, alert_view

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def interactive_worker(transactional_db, monkeypatch, smtp_server):
    """The layout's interactive worker, allowed to send to loopback http (DEBUG), retrying fast,
    and mailing through the test's SMTP server."""
    import redis
    from django.conf import settings

    from tests.layout import ROOT, Layout

    for name, value in {
        "DEBUG": "1",
        "SLUICE_DESTINATION_RETRY_SECONDS": "0.2",
        "SLUICE_DESTINATION_TIMEOUT_SECONDS": "5",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
    }.items():
        monkeypatch.setenv(name, value)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    layout = Layout(worker_env(), ROOT / "var" / "test-worker.log")
    try:
        layout.start(["interactive"])
        yield layout
    finally:
        layout.close()


def wait_status(delivery_id: int, *statuses: str, timeout: float = 30) -> Delivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = Delivery.objects.get(pk=delivery_id)
        if row.status in statuses:
            return row
        time.sleep(0.1)
    raise AssertionError(f"delivery {delivery_id} is {row.status}, expected one of {statuses}")


def test_a_rule_alert_reaches_slack_the_webhook_pagerduty_and_email(
    interactive_worker, receiver, smtp_server
):
    DestinationFactory(kind="slack", name="slack", secret={"webhook_url": receiver.url + "/slack"})
    DestinationFactory(
        kind="webhook",
        name="hook",
        url=receiver.url + "/hook",
        secret={"hmac_secret": "s3cret", "headers": {"X-Team": "secops"}},
    )
    DestinationFactory(
        kind="pagerduty", name="pd", url=receiver.url + "/pd", secret={"routing_key": "R0UT1NG"}
    )
    DestinationFactory(kind="email", name="mail", recipients=["soc@example.com"])

    created = dispatch.record(alert_view())
    assert sorted(d.destination.name for d in created) == ["hook", "mail", "pd", "slack"]

    slack = json.loads(receiver.wait_for("/slack", 1)[0].body)
    assert slack["blocks"][0]["type"] == "header"
    assert "root logged in to prod-db-1" in slack["text"]
    fields = " ".join(f["text"] for f in slack["blocks"][1]["fields"])
    for fact in ("High", "Teleport.SSHActivity", "2026-11-30T10:00:00+00:00", "*Events*\n3"):
        assert fact in fields
    assert slack["blocks"][2]["elements"][0]["url"] == "http://127.0.0.1:8000/alerts/4242/"

    hook = receiver.wait_for("/hook", 1)[0]
    expected = hmac.new(b"s3cret", hook.body, hashlib.sha256).hexdigest()
    assert hook.headers["X-Sluice-Signature"] == f"sha256={expected}"
    assert hook.headers["X-Team"] == "secops"
    body = json.loads(hook.body)
    assert body["change"] == "trigger"
    assert body["alert"]["id"] == 4242
    assert body["alert"]["events"][0]["server_hostname"] == "prod-db-1"

    pd = json.loads(receiver.wait_for("/pd", 1)[0].body)
    assert pd["routing_key"] == "R0UT1NG"
    assert pd["event_action"] == "trigger"
    assert pd["dedup_key"] == "4242"
    assert pd["payload"]["severity"] == "error"
    assert pd["payload"]["source"] == "sluice"

    message = email.message_from_bytes(smtp_server.wait_for(1)[0].content, policy=policy.default)
    assert message["To"] == "soc@example.com"
    assert "root logged in to prod-db-1" in message["Subject"]
    assert "Rule: Teleport.SSHActivity" in message.get_body(("plain",)).get_content()
    assert "<table>" in message.get_body(("html",)).get_content()

    for row in created:
        assert wait_status(row.pk, "delivered").attempts == 1


def test_resolving_the_alert_resolves_it_in_pagerduty(interactive_worker, receiver):
    DestinationFactory(
        kind="pagerduty", name="pd", url=receiver.url + "/pd", secret={"routing_key": "R"}
    )
    dispatch.record(alert_view())
    receiver.wait_for("/pd", 1)
    dispatch.record(alert_view(status="triaged"))  # nothing PagerDuty cares about
    dispatch.record(alert_view(status="resolved"))

    bodies = [json.loads(r.body) for r in receiver.wait_for("/pd", 2)]
    assert [b["event_action"] for b in bodies] == ["trigger", "resolve"]
    assert bodies[1] == {"routing_key": "R", "event_action": "resolve", "dedup_key": "4242"}
    time.sleep(1)
    assert len(receiver.on("/pd")) == 2


def test_retries_after_503_and_after_429_honouring_retry_after(interactive_worker, receiver):
    receiver.answer("/hook", (503, {}, 0), (429, {"Retry-After": "1"}, 0))
    DestinationFactory(url=receiver.url + "/hook")
    [row] = dispatch.record(alert_view())

    got = receiver.wait_for("/hook", 3)
    assert wait_status(row.pk, "delivered").attempts == 3
    assert got[0].body == got[1].body == got[2].body
    tries = list(DeliveryAttempt.objects.filter(delivery=row).order_by("number"))
    assert [(t.status_code, t.ok) for t in tries] == [(503, False), (429, False), (200, True)]
    assert tries[0].response == "error 503"
    # Retry-After: 1 held the third try back a second after the second
    assert (tries[2].started_at - tries[1].finished_at).total_seconds() >= 0.9


def test_no_retry_after_400(interactive_worker, receiver):
    receiver.answer("/hook", (400, {}, 0))
    DestinationFactory(url=receiver.url + "/hook")
    [row] = dispatch.record(alert_view())

    assert wait_status(row.pk, "failed").attempts == 1
    [attempt] = DeliveryAttempt.objects.filter(delivery=row)
    assert (attempt.status_code, attempt.error) == (400, "HTTP 400")
    time.sleep(1.5)
    assert len(receiver.on("/hook")) == 1


def test_one_send_per_change_across_a_sigkill_mid_send(interactive_worker, receiver, settings):
    receiver.answer("/hook", (200, {}, 4.0))  # holds the first send while the worker dies
    DestinationFactory(url=receiver.url + "/hook")
    [row] = dispatch.record(alert_view())
    receiver.wait_for("/hook", 1)
    wait_status(row.pk, "sending")

    interactive_worker.kill(["interactive"])
    interactive_worker.start(["interactive"])
    # The killed task comes back (acks_late, after the broker's visibility timeout) and the
    # sweeper hands pending work out again: neither may send the claimed change a second time.
    dispatch.enqueue([row.pk], attempt=1)
    dispatch.enqueue([row.pk], attempt=2)
    time.sleep(3)
    assert len(receiver.on("/hook")) == 1

    settings.SLUICE_DESTINATION_SWEEP_GRACE_SECONDS = 0
    settings.SLUICE_DESTINATION_TIMEOUT_SECONDS = 0
    assert delivery.sweep()["unknown"] == 1
    assert Delivery.objects.get(pk=row.pk).status == "unknown"

    dispatch.record(alert_view(status="resolved"))  # the next change is sent as usual
    assert json.loads(receiver.wait_for("/hook", 2)[1].body)["change"] == "resolve"


def test_a_detections_alert_and_a_drop_off_alert_reach_the_receivers(interactive_worker, receiver):
    from datetime import timedelta

    from django.utils import timezone

    from destinations import system
    from detections import services
    from sources.models import Source
    from tests.factories import AlertFactory, SourceFactory

    DestinationFactory(name="hook", url=receiver.url + "/hook", secret={"hmac_secret": "k"})
    DestinationFactory(
        kind="slack",
        name="slack",
        rule_ids=["System.*"],
        secret={"webhook_url": receiver.url + "/s"},
    )
    DestinationFactory(
        kind="pagerduty", name="pd", url=receiver.url + "/pd", secret={"routing_key": "R"}
    )

    with transaction.atomic():  # as ingestion saves an alert and links its matches
        alert = AlertFactory(severity="high")
    hook = json.loads(receiver.wait_for("/hook", 1)[0].body)
    assert hook["alert"]["rule_id"] == "Teleport.RootLogin"
    assert hook["alert"]["id"] == alert.pk
    assert [e["login"] for e in hook["alert"]["events"]] == ["root"]
    assert json.loads(receiver.wait_for("/pd", 1)[0].body)["dedup_key"] == str(alert.pk)
    services.triage(alert, actor=None, status="resolved")
    assert json.loads(receiver.wait_for("/pd", 2)[1].body)["event_action"] == "resolve"

    source = SourceFactory(name="teleport-prod", alarm_minutes=15)
    Source.objects.filter(pk=source.pk).update(
        created_at=timezone.now() - timedelta(hours=1),
        last_event_at=timezone.now() - timedelta(minutes=20),
    )
    system.check()
    slack = json.loads(receiver.wait_for("/s", 1)[0].body)
    assert "No data from teleport-prod" in slack["text"]
    assert "System.SourceDropOff" in slack["blocks"][1]["fields"][1]["text"]
    hooks = [json.loads(r.body) for r in receiver.wait_for("/hook", 3)]  # trigger, resolve, drop
    [drop] = [h for h in hooks if h["alert"]["rule_id"] == "System.SourceDropOff"]
    assert drop["alert"]["alert_context"]["source"] == "teleport-prod"
    assert drop["alert"]["events"] == []
    assert drop["alert"]["runbook"].startswith("Check that the log shipper still writes")

    Source.objects.filter(pk=source.pk).update(last_event_at=timezone.now())
    system.check()  # data again: resolved, and PagerDuty told so
    bodies = [json.loads(r.body) for r in receiver.wait_for("/pd", 4)]
    assert [b["event_action"] for b in bodies] == ["trigger", "resolve", "trigger", "resolve"]
    assert bodies[3]["dedup_key"] == bodies[2]["dedup_key"] != str(alert.pk)


def test_a_rule_alert_from_ingestion_reaches_the_webhook(interactive_worker, receiver):
    """Teleport logs through ingestion (parse, store, the built-in rules, alert windows written
    in bulk) → beat's follow() → the worker → the webhook, with the alert's events."""
    from destinations.hooks import follow
    from detections.models import Alert
    from tests.detections.conftest import ingest, root_login
    from tests.factories import SourceFactory

    DestinationFactory(url=receiver.url + "/hook", rule_ids=["Teleport.RootLogin"])
    source = SourceFactory()
    ingest(source, [root_login(0), root_login(5, host="db-1")])
    [alert] = Alert.objects.filter(rule_id="Teleport.RootLogin")

    assert follow() == 1
    body = json.loads(receiver.wait_for("/hook", 1)[0].body)
    assert body["alert"]["id"] == alert.pk
    assert body["alert"]["event_count"] == 2
    assert [e["server_hostname"] for e in body["alert"]["events"]] == ["db-1", "db-1"]
    assert follow() == 0  # followed once
    time.sleep(1)
    assert len(receiver.on("/hook")) == 1
