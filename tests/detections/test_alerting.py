"""Alerts from matches, Panther's semantics on event time: thresholds, dedup windows opening at
the first match, independence from how objects are split or ordered, late earlier matches, and
exactly once however often an object is read."""

from datetime import timedelta

import pytest

from detections.models import Alert, Match, RuleError, RuleSetting
from events.models import Event
from tests.factories import SourceFactory

from .conftest import T0, failed_login, harmless, ingest, root_login

pytestmark = pytest.mark.django_db


def shape() -> list[tuple]:
    """Every alert as (rule, dedup, first, last, count), and the pending windows' matches."""
    alerts = sorted(
        (a.rule_id, a.dedup, a.first_event_time, a.last_event_time, a.event_count)
        for a in Alert.objects.all()
    )
    pending = sorted(
        (m.rule_id, m.dedup, m.window_start, m.p_event_time)
        for m in Match.objects.filter(alert__isnull=True)
    )
    return [alerts, pending]


def minutes(n: float):
    return T0 + timedelta(minutes=n)


def test_a_matching_event_raises_one_alert_and_others_raise_none(rules_dir):
    source = SourceFactory()
    ingest(source, [harmless(0), root_login(1, user="alice", host="db-1"), harmless(2)])

    alert = Alert.objects.get()
    assert alert.rule_id == "Teleport.RootLogin"
    assert alert.title == "User [alice] logged into [db-1] as root on [teleport.example.com]"
    assert alert.dedup == alert.title  # no dedup(): the title
    assert (alert.severity, alert.status, alert.event_count) == ("medium", "open", 1)
    assert alert.first_event_time == alert.last_event_time == minutes(1)
    assert alert.alert_context["user"] == "alice"
    assert alert.runbook  # the YAML's Runbook
    assert list(Match.objects.values_list("rule_id", flat=True)) == ["Teleport.RootLogin"]
    stored = Event.objects.get(fields__event="session.start")
    assert Match.objects.get().p_row_id == stored.p_row_id


def test_reading_the_same_object_again_changes_nothing(rules_dir):
    source = SourceFactory()
    events = [root_login(0), failed_login(1), failed_login(2), failed_login(3), harmless(4)]
    ingest(source, events)
    before = shape()
    updated = list(Alert.objects.values_list("pk", "updated_at"))
    errors = list(RuleError.objects.values_list("count", flat=True))

    outcome = ingest(source, events)  # a retry, a backfill, ingest-file of the same file

    assert outcome.inserted == 0
    assert shape() == before
    assert list(Alert.objects.values_list("pk", "updated_at")) == updated
    assert list(RuleError.objects.values_list("count", flat=True)) == errors
    assert Match.objects.count() == 4


def test_an_alert_waits_for_the_threshold_then_holds_every_match_of_its_window(rules_dir):
    source = SourceFactory()
    ingest(source, [failed_login(0), failed_login(4)], key="a")
    assert not Alert.objects.exists()
    assert Match.objects.filter(window_start=minutes(0)).count() == 2

    ingest(source, [failed_login(8)], key="b")
    alert = Alert.objects.get()
    assert (alert.event_count, alert.first_event_time, alert.last_event_time) == (
        3,
        minutes(0),
        minutes(8),
    )
    assert alert.severity == "low"

    ingest(source, [failed_login(9.5), failed_login(10), failed_login(12)], key="c")
    alert.refresh_from_db()
    assert alert.event_count == 4  # +9.5 joins; the window [0, 10) is closed at +10
    assert Alert.objects.count() == 1
    later = Match.objects.filter(alert__isnull=True)
    assert {m.window_start for m in later} == {minutes(10)}  # a new window, 2 of 3 so far


def test_windows_do_not_depend_on_how_objects_are_split_or_ordered(rules_dir):
    events = [failed_login(m) for m in (0, 3, 7, 11, 12, 13, 30, 31)] + [
        root_login(m) for m in (5, 50, 70, 200)
    ]
    source = SourceFactory()
    ingest(source, events, key="all-at-once")
    at_once = shape()
    assert [a[4] for a in at_once[0] if a[0] == "Test.FailedLogins"] == [3, 3]

    for order in ("newest first", "oldest first"):  # one object per event
        for model in (Match, Alert, Event):
            model.objects.all().delete()
        ordered = sorted(events, key=lambda e: e["time"], reverse=order == "newest first")
        for index, event in enumerate(ordered):
            ingest(source, [event], key=f"one-{index}")
        assert shape() == at_once, order


def test_a_late_earlier_match_joins_the_alert_and_recuts_later_windows(rules_dir):
    source = SourceFactory()
    ingest(source, [root_login(40), root_login(90)], key="first")
    first = Alert.objects.get()  # window [40, 100) holds both
    assert first.event_count == 2

    ingest(source, [root_login(0)], key="late")  # a backfill of an earlier hour

    alerts = list(Alert.objects.order_by("first_event_time"))
    assert [(a.first_event_time, a.event_count) for a in alerts] == [
        (minutes(0), 2),  # [0, 60) holds 0 and 40
        (minutes(90), 1),  # 90 opens the next window
    ]
    assert alerts[0].pk == first.pk  # the alert keeps its identity (status, comments)


def test_a_rule_that_raises_is_recorded_and_ingestion_goes_on(rules_dir):
    source = SourceFactory()
    outcome = ingest(source, [root_login(0, user="alice"), root_login(1, user="bob"), harmless(2)])

    assert outcome.inserted == 3
    error = RuleError.objects.get(rule_id="Test.Broken")
    assert error.count == 2
    assert error.message == "RuntimeError: boom"
    assert error.last_event_time == minutes(1)
    assert Alert.objects.filter(rule_id="Teleport.RootLogin").count() == 2


def test_rule_settings_turn_rules_off_and_override_their_severity(rules_dir):
    RuleSetting.objects.create(rule_id="Test.FailedLogins", enabled=False)
    RuleSetting.objects.create(rule_id="Teleport.RootLogin", severity="critical")
    source = SourceFactory()

    ingest(source, [root_login(0), *(failed_login(m) for m in (1, 2, 3))])

    assert not Match.objects.filter(rule_id="Test.FailedLogins").exists()
    assert Alert.objects.get().severity == "critical"


def test_the_highest_per_event_severity_wins(rules_dir):
    source = SourceFactory()
    events = [
        failed_login(0, user="root"),
        failed_login(1, user="root"),
        failed_login(2, user="root"),
    ]
    ingest(source, events)
    assert Alert.objects.get().severity == "high"  # severity() said HIGH for root
