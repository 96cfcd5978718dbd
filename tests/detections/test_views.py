"""The Alerts and Detections pages: filters, counts, bulk status, the alert page with its events
and session timeline, triage and comments (audited), rule settings (admins), on-demand runs."""

import re
from datetime import timedelta
from urllib.parse import unquote_plus

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from detections import runs
from detections.models import Alert, AlertComment, RuleRun, RuleSetting
from events.models import Event
from tests.factories import AlertFactory, EventFactory, SourceFactory, UserFactory

from .conftest import T0, harmless, ingest, root_login

pytestmark = pytest.mark.django_db


def test_the_alerts_page_lists_filters_and_counts_by_severity(viewer_client):
    AlertFactory(severity="high", title="High one")
    AlertFactory(severity="low", title="Low one")
    AlertFactory(severity="low", status="resolved", title="Done one")

    page = viewer_client.get(reverse("detections:alerts"), {"status": "open"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "High one" in html
    assert "Low one" in html
    assert "Done one" not in html
    counts = {value: count for value, _, count, _ in page.context["severity_counts"]}
    assert counts == {"critical": 0, "high": 1, "medium": 0, "low": 1, "info": 0}

    filtered = viewer_client.get(reverse("detections:alerts"), {"severity": "high"})
    assert [a.title for a in filtered.context["rows"]] == ["High one"]


def test_a_bad_filter_shows_its_message_on_the_field(viewer_client):
    AlertFactory()
    page = viewer_client.get(reverse("detections:alerts"), {"severity": "urgent", "start": "x"})
    assert page.status_code == 200
    assert page.context["rows"] == []
    errors = page.context["filter"].form.errors
    assert set(errors) == {"severity", "start"}


def test_the_alerts_page_without_alerts_says_how_they_come(viewer_client):
    page = viewer_client.get(reverse("detections:alerts"))
    assert "No alerts yet" in page.content.decode()


def test_bulk_status_change_is_audited_per_alert(viewer_client, viewer):
    first, second, other = AlertFactory(), AlertFactory(), AlertFactory()
    answer = viewer_client.post(
        reverse("detections:alerts_bulk"),
        {"status": "resolved", "alerts": [first.pk, second.pk], "next": "/alerts/?status=open"},
    )
    assert answer.status_code == 302
    assert answer["Location"] == "/alerts/?status=open"
    assert sorted(Alert.objects.filter(status="resolved").values_list("pk", flat=True)) == [
        first.pk,
        second.pk,
    ]
    assert Alert.objects.get(pk=other.pk).status == "open"
    assert AuditEntry.objects.filter(object_type="alert", actor=viewer).count() == 2


def test_the_alert_page_shows_its_events_and_session_timeline(viewer_client, rules_dir):
    source = SourceFactory()
    session = [
        root_login(0, sid="sess-42"),
        {**harmless(1), "sid": "sess-42", "program": "cat", "argv": ["/etc/shadow"]},
    ]
    ingest(source, session)
    alert = Alert.objects.get(rule_id="Teleport.RootLogin")

    page = viewer_client.get(alert.get_absolute_url())

    html = page.content.decode()
    assert alert.title in html
    assert [e.fields["event"] for e in page.context["events"]] == ["session.start"]
    event = page.context["events"][0]
    assert reverse("events:detail", args=[event.p_row_id]) in html
    [timeline] = page.context["sessions"]
    assert timeline.sid == "sess-42"
    assert [e.event.fields["event"] for e in timeline.entries] == [
        "session.start",
        "session.command",
    ]
    assert reverse("events:session", args=["sess-42"]) in html
    assert "/search/?" in html  # a search around the alert's events


def test_the_alert_of_a_removed_rule_shows_its_own_runbook(viewer_client):
    alert = AlertFactory(rule_id="Custom.Removed", runbook="Call the on-call engineer.")

    page = viewer_client.get(reverse("detections:alert", args=[alert.pk]))

    assert page.status_code == 200
    assert "Call the on-call engineer." in page.content.decode()


def test_the_alert_page_loads_its_delivery_log_and_links_it_without_javascript(viewer_client):
    alert = AlertFactory()
    deliveries = reverse("destinations:alert_deliveries", args=[alert.pk])

    page = viewer_client.get(reverse("detections:alert", args=[alert.pk])).content.decode()

    assert f'hx-get="{deliveries}"' in page
    assert f'href="{deliveries}"' in page


def test_triage_and_comments_are_saved_and_audited(viewer_client, viewer):
    alert = AlertFactory()
    UserFactory(username="dana")
    url = reverse("detections:alert_triage", args=[alert.pk])

    answer = viewer_client.post(
        url, {"status": "triaged", "assignee": "dana"}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 200
    assert 'data-testid="alert-status">Triaged' in answer.content.decode()
    viewer_client.post(reverse("detections:alert_comment", args=[alert.pk]), {"body": "On it."})

    alert.refresh_from_db()
    assert (alert.status, alert.assignee.username) == ("triaged", "dana")
    assert AlertComment.objects.get().body == "On it."
    actions = sorted(
        AuditEntry.objects.filter(object_type="alert").values_list("action", flat=True)
    )
    assert actions == ["commented", "updated"]


def test_triage_with_a_bad_value_answers_400_with_the_field_message(viewer_client):
    alert = AlertFactory()
    answer = viewer_client.post(
        reverse("detections:alert_triage", args=[alert.pk]), {"status": "done"}
    )
    assert answer.status_code == 400
    assert "Select a valid choice" in answer.content.decode()


def test_the_detections_page_lists_every_rule_with_its_week(viewer_client, rules_dir):
    ingest(SourceFactory(), [root_login(0)])
    page = viewer_client.get(reverse("detections:rules"))
    rows = {row["meta"].rule_id: row for row in page.context["rows"]}
    assert {"Teleport.RootLogin", "Teleport.AuthErrors", "Test.FailedLogins"} <= set(rows)
    assert (
        rows["Teleport.RootLogin"]["week"].matches,
        rows["Teleport.RootLogin"]["week"].alerts,
    ) == (1, 1)
    assert rows["Test.Broken"]["week"].errors == 1
    assert "TA0002:T1059" in rows["Teleport.RootLogin"]["mitre"]
    assert not page.context["can_manage"]  # viewers see no switches


def test_only_admins_switch_rules_and_override_severity(viewer_client, client, admin_user):
    url = reverse("detections:rule_change", args=["Teleport.RootLogin"])
    assert viewer_client.post(url, {"enabled": "false"}).status_code == 403

    client.force_login(admin_user)
    answer = client.post(url, {"enabled": "false", "severity": "critical"})
    assert answer.status_code == 302
    setting = RuleSetting.objects.get()
    assert (setting.enabled, setting.severity) == (False, "critical")
    entry = AuditEntry.objects.get(object_type="rulesetting")
    assert entry.changes == {"enabled": [None, False], "severity": [None, "critical"]}
    page = client.get(reverse("detections:rule", args=["Teleport.RootLogin"]))
    assert page.context["enabled"] is False
    assert page.context["severity"] == "critical"


def test_run_tests_and_test_against_stored_events_run_in_a_worker(
    viewer_client, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("detections.views.run_rule.delay", queued.append)
    url = reverse("detections:rule_run", args=["Teleport.RootLogin"])
    with django_capture_on_commit_callbacks(execute=True):
        assert viewer_client.post(url, {"kind": "tests"}).status_code == 302
    run = RuleRun.objects.get()
    assert queued == [run.pk]

    runs.execute(run)  # what the worker's task does
    run.refresh_from_db()
    assert run.status == "done"
    assert run.total >= 2
    assert run.matched == run.total
    assert all(result["passed"] for result in run.results)


def test_stored_events_are_tested_without_alerting(rules_dir):
    EventFactory(p_event_time=T0, fields=root_login(0))
    EventFactory(p_event_time=T0 + timedelta(minutes=5), fields=harmless(5))
    run = RuleRun.objects.create(
        rule_id="Teleport.RootLogin",
        kind="events",
        start=T0 - timedelta(hours=1),
        end=T0 + timedelta(hours=1),
    )

    runs.execute(run)

    run.refresh_from_db()
    assert (run.status, run.total, run.processed, run.matched) == ("done", 2, 2, 1)
    assert run.results[0]["title"].startswith("User [alice] logged into")
    assert not Alert.objects.exists()


def test_a_stored_events_run_refuses_a_range_too_long(viewer_client):
    answer = viewer_client.post(
        reverse("detections:rule_run", args=["Teleport.RootLogin"]),
        {"kind": "events", "start": "2026-01-01T00:00:00", "end": "2026-06-01T00:00:00"},
    )
    assert answer.status_code == 400
    assert "At most 30 days" in answer.content.decode()
    assert not RuleRun.objects.exists()


def test_search_these_events_shows_exactly_the_alerts_events(viewer_client, rules_dir):
    source = SourceFactory()
    not_root = {**root_login(7), "login": "ubuntu", "uid": "uid-ubuntu"}
    ingest(source, [root_login(0), root_login(10), root_login(5, host="db-2"), not_root])
    alert = Alert.objects.get(rule_id="Teleport.RootLogin", title__contains="db-1")
    held = set(alert.matches.values_list("p_row_id", flat=True))
    others = set(Event.objects.exclude(p_row_id__in=held).values_list("p_row_id", flat=True))
    assert len(held) == 2
    assert len(others) == 2  # the same event type, in the alert's time range

    html = viewer_client.get(alert.get_absolute_url()).content.decode()
    link = re.search(r'href="(/search/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    results = viewer_client.get(f"{link}&hist=1").content.decode()

    assert f"p_alert_id:{alert.pk}" in unquote_plus(link)
    assert "2 events" in results
    assert all(row_id in results for row_id in held)
    assert not any(row_id in results for row_id in others)


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "4*", "99999999999999999999"])
def test_p_alert_id_takes_an_alert_id(viewer_client, value):
    page = viewer_client.get("/search/", {"q": f"p_alert_id:{value}"})

    assert page.status_code == 200
    assert "takes an alert" in page.content.decode()
