"""Through the worker layout of ./run (real Celery workers, Redis, PostgreSQL or SQLite): the rule
page's "Run tests" and "Test against stored events" run in the interactive worker and the page
shows their results; reprocessing failed lines that now parse into a matching event raises its
alert in the ingest worker, once however often the lines are reprocessed."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from detections.models import Alert, Match, RuleRun
from events.models import Event, Failure
from ingestion.tasks import reprocess_failures_task
from tests.conftest import wait_until
from tests.factories import EventFactory, FailureFactory, SourceFactory

from .conftest import T0, harmless, root_login

pytestmark = pytest.mark.e2e

RULE = "Teleport.RootLogin"


def finished_run(client, kind: str) -> str:
    """The rule page's run of `kind` as its status partial shows it once the worker is done."""
    run = wait_until(
        lambda: RuleRun.objects.filter(kind=kind, status__in=["done", "failed"]).first(),
        timeout=60,
        interval=0.2,
        what=f"the worker to finish the {kind} run",
    )
    return client.get(reverse("detections:rule_run_status", args=[RULE, run.pk])).content.decode()


def test_run_tests_and_test_against_stored_events_run_in_the_worker(workers, viewer_client):
    source = SourceFactory()
    root = EventFactory(source=source, p_event_time=T0, fields=root_login(0))
    other = EventFactory(source=source, p_event_time=T0 + timedelta(minutes=5), fields=harmless(5))
    workers.start()
    rule_page = reverse("detections:rule", args=[RULE])
    run_url = reverse("detections:rule_run", args=[RULE])

    assert viewer_client.post(run_url, {"kind": "tests"}).status_code == 302
    tests = finished_run(viewer_client, "tests")

    assert ">Done<" in tests
    results = re.findall(r'<span class="test-(pass|fail)">', tests)
    assert len(results) >= 2
    assert set(results) == {"pass"}
    passed = RuleRun.objects.get(kind="tests")
    assert f"{passed.matched} of {passed.total} tests passed" in tests
    assert passed.matched == passed.total

    window = {"kind": "events", "start": "2026-11-27T09:00:00", "end": "2026-11-27T11:00:00"}
    assert viewer_client.post(run_url, window).status_code == 302
    stored = finished_run(viewer_client, "events")

    assert "2 of 2 events read, 1 would match" in stored
    assert reverse("events:detail", args=[root.p_row_id]) in stored
    assert other.p_row_id not in stored
    assert not Alert.objects.exists()
    assert not Match.objects.exists()
    page = viewer_client.get(rule_page).content.decode()
    assert 'data-testid="test-results"' in page
    assert 'data-testid="would-match"' in page


def test_reprocessed_lines_that_now_parse_raise_their_alert_once(workers, admin_client):
    source = SourceFactory()
    key = "teleport/2026/11/27/10/refused.json.gz"
    refused = {"source": source, "object_key": key, "object_version": "v1"}
    # lines an older schema refused (the current one parses them), and one still broken
    FailureFactory(**refused, line=3, raw=json.dumps(root_login(0)).encode(), error="old schema")
    FailureFactory(**refused, line=4, raw=json.dumps(harmless(1)).encode(), error="old schema")
    FailureFactory(**refused, line=5, raw=b'{"event": "session.st', error="invalid JSON")
    workers.start()

    admin_client.post(reverse("ingestion:reprocess", args=[source.pk]))
    wait_until(
        lambda: Failure.objects.count() == 1 and Alert.objects.exists(),
        timeout=60,
        interval=0.2,
        what="the ingest worker to reprocess the failed lines",
    )

    assert Event.objects.filter(source=source).count() == 2
    [alert] = Alert.objects.all()
    assert (alert.rule_id, alert.event_count) == (RULE, 1)
    [match] = Match.objects.all()
    assert Event.objects.get(p_row_id=match.p_row_id).line == 3
    before = (alert.pk, alert.event_count, alert.updated_at)

    result = reprocess_failures_task.delay(source.pk).get(timeout=60)  # again: nothing new

    assert result["parsed"] == 0
    assert result["still_failing"] == 1
    assert Match.objects.count() == 1
    [again] = Alert.objects.all()
    assert (again.pk, again.event_count, again.updated_at) == before
