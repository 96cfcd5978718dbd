"""/api/v1/alerts and /api/v1/rules with Bearer tokens: shapes, filters, cursors, triage,
rule changes by admins only, and 422 with the field for bad values."""

from datetime import timedelta

import pytest

from audit.models import AuditEntry
from detections.models import Alert, RuleSetting
from tests.factories import AlertFactory, EventFactory, SourceFactory, UserFactory
from tests.sources.test_api import bearer, errors_by_field

from .conftest import T0

pytestmark = pytest.mark.django_db

ALERTS = "/api/v1/alerts"
RULES = "/api/v1/rules"
ALERT_KEYS = {
    "id", "rule_id", "title", "severity", "status", "assignee", "event_count",
    "first_event_time", "last_event_time", "dedup", "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture
def viewer_api(client, viewer):
    client.defaults.update({"HTTP_AUTHORIZATION": bearer(viewer)["Authorization"]})
    return client


@pytest.fixture
def admin_api(client, admin_user):
    client.defaults.update({"HTTP_AUTHORIZATION": bearer(admin_user)["Authorization"]})
    return client


def test_alerts_list_has_the_documented_shape_and_pages_with_a_cursor(viewer_api):
    made = [AlertFactory(first_event_time=T0 + timedelta(minutes=i)) for i in range(5)]

    first = viewer_api.get(ALERTS, {"limit": 2}).json()
    assert first["count"] == 5
    assert set(first["results"][0]) == ALERT_KEYS
    assert first["results"][0]["severity"] == "medium"
    second = viewer_api.get(ALERTS, {"limit": 2, "cursor": first["next"]}).json()
    third = viewer_api.get(ALERTS, {"limit": 2, "cursor": second["next"]}).json()
    assert third["next"] is None
    ids = [r["id"] for page in (first, second, third) for r in page["results"]]
    assert ids == [a.pk for a in reversed(made)]  # newest first, each once


def test_alerts_filter_by_status_severity_rule_source_and_time(viewer_api):
    source = SourceFactory()
    theirs = AlertFactory(
        severity="high",
        first_event_time=T0,
        events=[EventFactory(source=source, p_event_time=T0)],
    )
    AlertFactory(status="resolved", first_event_time=T0 + timedelta(days=2))
    AlertFactory(rule_id="Teleport.SAMLCreated", first_event_time=T0 + timedelta(days=3))

    def ids(**params):
        return [r["id"] for r in viewer_api.get(ALERTS, params).json()["results"]]

    assert ids(severity="high") == [theirs.pk]
    assert ids(source=str(source.pk)) == [theirs.pk]
    assert len(ids(status="open")) == 2
    assert len(ids(rule_id="Teleport.RootLogin")) == 2
    assert ids(
        start=(T0 - timedelta(hours=1)).isoformat(), end=(T0 + timedelta(days=1)).isoformat()
    ) == [theirs.pk]


def test_bad_filter_values_answer_422_on_their_field(viewer_api):
    for params, field in (
        ({"severity": "urgent"}, "severity"),
        ({"status": "done"}, "status"),
        ({"start": "yesterday"}, "start"),
        ({"source": "x"}, "source"),
        ({"source": "0"}, "source"),
        ({"source": "-3"}, "source"),
        ({"source": "1.5"}, "source"),
        ({"source": str(2**63)}, "source"),
        ({"source": "4242"}, "source"),  # a number, but no such source
        ({"cursor": "garbage!"}, "cursor"),
    ):
        errors = errors_by_field(viewer_api.get(ALERTS, params))
        assert ("query", field) in {(loc[0], loc[-1]) for loc in errors}, (params, errors)


def test_the_source_filter_is_documented_as_a_source_id(client):
    operation = client.get("/api/openapi.json").json()["paths"]["/api/v1/alerts"]["get"]
    [source] = [p for p in operation["parameters"] if p["name"] == "source"]

    [number] = [
        s for s in source["schema"].get("anyOf", [source["schema"]]) if s.get("type") != "null"
    ]
    assert number["type"] == "integer"
    assert number["minimum"] == 1
    assert "422" in operation["responses"]


def test_an_analyst_triages_an_alert_and_the_change_is_audited(viewer_api, viewer):
    alert = AlertFactory()
    UserFactory(username="dana")

    answer = viewer_api.patch(
        f"{ALERTS}/{alert.pk}",
        {"status": "triaged", "assignee": "dana"},
        content_type="application/json",
    )

    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["assignee"]) == ("triaged", "dana")
    entry = AuditEntry.objects.get(object_type="alert")
    assert entry.changes == {"status": ["open", "triaged"], "assignee": [None, "dana"]}
    assert entry.actor == viewer
    assert entry.via == "api"


def test_patching_an_alert_with_bad_values_answers_422(viewer_api):
    alert = AlertFactory()
    bad_status = viewer_api.patch(
        f"{ALERTS}/{alert.pk}", {"status": "done"}, content_type="application/json"
    )
    assert bad_status.status_code == 422
    nobody = viewer_api.patch(
        f"{ALERTS}/{alert.pk}", {"assignee": "nobody"}, content_type="application/json"
    )
    assert errors_by_field(nobody) == {("body", "assignee"): "No active user is called 'nobody'."}
    assert Alert.objects.get().status == "open"


def test_an_alert_and_its_events(viewer_api):
    alert = AlertFactory()
    detail = viewer_api.get(f"{ALERTS}/{alert.pk}").json()
    assert detail["id"] == alert.pk
    assert "alert_context" in detail
    assert detail["comments"] == []
    events = viewer_api.get(f"{ALERTS}/{alert.pk}/events").json()
    assert events["count"] == 1
    assert events["results"][0]["event"] == "session.start"
    assert events["next"] is None
    assert viewer_api.get(f"{ALERTS}/999999").status_code == 404


def test_rules_are_listed_and_only_admins_change_them(viewer_api, client, admin_user):
    rules = viewer_api.get(RULES).json()
    ids = {r["rule_id"] for r in rules}
    assert "Teleport.RootLogin" in ids
    assert len(ids) >= 13
    root = viewer_api.get(f"{RULES}/Teleport.RootLogin").json()
    assert (root["severity"], root["enabled"], root["threshold"]) == ("medium", True, 1)

    refused = viewer_api.patch(
        f"{RULES}/Teleport.RootLogin", {"enabled": False}, content_type="application/json"
    )
    assert refused.status_code == 403

    admin = {"HTTP_AUTHORIZATION": bearer(admin_user)["Authorization"]}
    changed = client.patch(
        f"{RULES}/Teleport.RootLogin",
        {"enabled": False, "severity": "high"},
        content_type="application/json",
        **admin,
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["enabled"], changed.json()["severity"]) == (False, "high")
    assert changed.json()["default_severity"] == "medium"
    setting = RuleSetting.objects.get()
    assert (setting.enabled, setting.severity) == (False, "high")
    assert AuditEntry.objects.filter(object_type="rulesetting").count() == 1

    bad = client.patch(
        f"{RULES}/Teleport.RootLogin",
        {"severity": "urgent"},
        content_type="application/json",
        **admin,
    )
    assert bad.status_code == 422
    assert client.get(f"{RULES}/No.Such", **admin).status_code == 404


def test_an_alert_id_that_is_not_a_number_or_too_large_answers_json_not_html(viewer_api):
    not_a_number = viewer_api.get(f"{ALERTS}/abc")
    assert not_a_number.status_code == 422
    assert not_a_number["Content-Type"].startswith("application/json")
    too_large = viewer_api.get(f"{ALERTS}/{2**63}/events")
    assert (too_large.status_code, too_large.json()) == (404, {"detail": "Not Found"})


def test_a_body_that_is_not_a_json_object_answers_422_and_changes_nothing(client, admin_user):
    alert = AlertFactory()
    admin = {"HTTP_AUTHORIZATION": bearer(admin_user)["Authorization"]}
    for url in (f"{ALERTS}/{alert.pk}", f"{RULES}/Teleport.RootLogin"):
        answer = client.patch(url, [None, None], content_type="application/json", **admin)
        assert answer.status_code == 422, (url, answer.content)
    assert not AuditEntry.objects.filter(object_type__in=["alert", "rulesetting"]).exists()
