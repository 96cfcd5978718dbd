"""Grouping after the commit: a batch's new matches are stored ungrouped in its transaction and
folded into alerts right after it; what a crash in between leaves ungrouped, the beat sweep
(detections.group_pending) groups the same way, once."""

import pytest

from detections import tasks
from detections.models import Alert, Match
from events.models import Event
from ingestion import process
from tests.factories import SourceFactory

from .conftest import failed_login, ingest, root_login
from .test_alerting import minutes, shape

pytestmark = pytest.mark.django_db

EVENTS = [failed_login(m) for m in (0, 3, 7, 11, 12, 13, 30, 31)] + [
    root_login(m) for m in (5, 50, 70, 200)
]


@pytest.fixture
def crash_after_commit(monkeypatch):
    """The worker dies between a batch's commit and its grouping: nothing groups the matches."""
    monkeypatch.setattr(process.alerting, "group", lambda keys: 0)


def test_a_crash_after_the_commit_leaves_matches_ungrouped(rules_dir, crash_after_commit):
    ingest(SourceFactory(), EVENTS)

    assert Match.objects.count() == len(EVENTS)
    assert not Match.objects.filter(window_start__isnull=False).exists()
    assert not Alert.objects.exists()


def test_the_sweep_groups_them_as_ingestion_would_have(rules_dir, monkeypatch):
    source = SourceFactory()
    ingest(source, EVENTS, key="grouped")
    expected = shape()
    for model in (Match, Alert, Event):
        model.objects.all().delete()
    with monkeypatch.context() as patch:
        patch.setattr(process.alerting, "group", lambda keys: 0)
        ingest(source, EVENTS, key="crashed")

    tasks.group_pending()

    assert shape() == expected


def test_the_sweep_finds_nothing_to_do_twice(rules_dir, crash_after_commit):
    ingest(SourceFactory(), EVENTS)
    tasks.group_pending()
    before = shape()
    updated = list(Alert.objects.values_list("pk", "updated_at"))

    assert tasks.group_pending() == 0
    assert shape() == before
    assert list(Alert.objects.values_list("pk", "updated_at")) == updated


def test_ungrouped_matches_join_a_group_with_alerts_and_pending_windows(rules_dir, monkeypatch):
    source = SourceFactory()
    ingest(source, [root_login(40), root_login(90), failed_login(0)], key="first")
    with monkeypatch.context() as patch:
        patch.setattr(process.alerting, "group", lambda keys: 0)
        ingest(source, [root_login(0), failed_login(4), failed_login(8)], key="late")

    tasks.group_pending()

    root = Alert.objects.filter(rule_id="Teleport.RootLogin").order_by("first_event_time")
    assert [(a.first_event_time, a.event_count) for a in root] == [
        (minutes(0), 2),  # [0, 60) holds 0 and 40
        (minutes(90), 1),  # 90 opens the next window
    ]
    failed = Alert.objects.get(rule_id="Test.FailedLogins")
    assert failed.event_count == 3
    assert not Match.objects.filter(window_start__isnull=True).exists()
