"""/api/v1/destinations with Bearer tokens: CRUD, write-only secrets, 422 field messages, roles,
the test alert and the delivery log."""

from __future__ import annotations

import pytest

from audit.models import ApiToken, AuditEntry
from destinations.models import Destination
from destinations.sealed import unseal
from tests.factories import DestinationFactory

API = "/api/v1/destinations"
pytestmark = pytest.mark.django_db


def bearer(user) -> str:
    return f"Bearer {ApiToken.objects.issue(user, 'tests')[1]}"


@pytest.fixture
def admin_api(client, admin_user):
    client.defaults["HTTP_AUTHORIZATION"] = bearer(admin_user)
    return client


@pytest.fixture
def viewer_api(client, viewer):
    client.defaults["HTTP_AUTHORIZATION"] = bearer(viewer)
    return client


def errors_by_field(response) -> dict:
    assert response.status_code == 422, response.content
    return {item["loc"][-1]: item["msg"] for item in response.json()["detail"]}


def test_an_admin_creates_a_webhook_whose_secrets_are_never_returned(admin_api):
    response = admin_api.post(
        API,
        {
            "name": "soc webhook",
            "kind": "webhook",
            "url": "https://hooks.example.com/sluice",
            "min_severity": "high",
            "rule_ids": ["Teleport.*"],
            "hmac_secret": "s3cret",
            "headers": {"Authorization": "Token abc"},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secrets_set"] == ["headers", "hmac_secret"]
    assert "s3cret" not in response.content.decode()
    assert "Token abc" not in admin_api.get(f"{API}/{body['id']}").content.decode()
    stored = Destination.objects.get(pk=body["id"])
    assert unseal(stored.secrets) == {
        "hmac_secret": "s3cret",
        "headers": {"Authorization": "Token abc"},
    }
    assert "s3cret" not in stored.secrets
    entry = AuditEntry.objects.get(object_type="destination", action="created")
    assert entry.changes["hmac_secret"] == [None, "[redacted]"]
    assert entry.changes["headers"][1] == "set"
    assert "s3cret" not in str(entry.changes)


def test_patch_keeps_the_secrets_it_does_not_name(admin_api):
    destination = DestinationFactory(kind="pagerduty", url="", secret={"routing_key": "R1"})
    response = admin_api.patch(
        f"{API}/{destination.pk}",
        {"min_severity": "critical", "enabled": False},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    destination.refresh_from_db()
    assert (destination.min_severity, destination.enabled) == ("critical", False)
    assert unseal(destination.secrets) == {"routing_key": "R1"}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"kind": "webhook", "url": "http://hooks.example.com/x"}, "url", "Use an https:// URL."),
        ({"kind": "webhook", "url": "ftp://x"}, "url", "Use an https:// URL."),
        (
            {"kind": "webhook", "url": "http://127.0.0.1:9/x"},
            "url",
            "http:// is allowed only for a loopback address with DEBUG on.",
        ),
        ({"kind": "webhook"}, "url", "This field is required."),
        ({"kind": "slack"}, "webhook_url", "This field is required."),
        ({"kind": "pagerduty"}, "routing_key", "This field is required."),
        ({"kind": "email", "recipients": ["not-an-address"]}, "recipients", "Enter a valid"),
        (
            {"kind": "webhook", "url": "https://h.example", "headers": {"Host": "evil"}},
            "headers",
            "Line 1: Host is set by Sluice.",
        ),
        (
            {"kind": "webhook", "url": "https://h.example", "log_types": ["Nope.Nothing"]},
            "log_types",
            "Unknown log type: Nope.Nothing.",
        ),
        ({"kind": "sms"}, "kind", "Input should be"),
    ],
)
def test_bad_input_answers_422_on_its_field(admin_api, payload, field, message):
    response = admin_api.post(API, {"name": "x", **payload}, content_type="application/json")
    assert message in errors_by_field(response)[field]
    assert not Destination.objects.exists()


def test_http_to_loopback_is_allowed_with_debug(admin_api, settings):
    settings.DEBUG = True
    response = admin_api.post(
        API,
        {"name": "local", "kind": "webhook", "url": "http://127.0.0.1:9000/hook"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


def test_viewers_read_but_cannot_change(viewer_api):
    destination = DestinationFactory()
    assert viewer_api.get(API).json()[0]["name"] == destination.name
    assert viewer_api.get(f"{API}/{destination.pk}/deliveries").status_code == 200
    valid = {"name": "n", "kind": "webhook", "url": "https://h.example"}
    for method, url in [
        ("post", API),
        ("patch", f"{API}/{destination.pk}"),
        ("delete", f"{API}/{destination.pk}"),
        ("post", f"{API}/{destination.pk}/test"),
    ]:
        response = getattr(viewer_api, method)(url, valid, content_type="application/json")
        assert response.status_code == 403, (method, url)
    assert list(Destination.objects.values_list("name", flat=True)) == [destination.name]


def test_without_a_token_the_api_answers_401(client):
    assert client.get(API).status_code == 401


def test_delete(admin_api):
    destination = DestinationFactory()
    assert admin_api.delete(f"{API}/{destination.pk}").status_code == 204
    assert not Destination.objects.exists()
    assert AuditEntry.objects.filter(object_type="destination", action="deleted").exists()


def test_a_test_alert_to_a_receiver_that_refuses_says_why(admin_api):
    destination = DestinationFactory(url="https://127.0.0.1:9/refused")
    response = admin_api.post(f"{API}/{destination.pk}/test")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["change"], body["status"], body["alert_id"]) == ("test", "failed", None)
    [attempt] = body["tries"]
    assert attempt["ok"] is False
    assert attempt["error"].startswith("could not connect")
    listed = admin_api.get(f"{API}/{destination.pk}/deliveries").json()
    assert [d["id"] for d in listed] == [body["id"]]


def test_a_body_that_is_not_a_json_object_answers_422_and_changes_nothing(admin_api):
    destination = DestinationFactory()
    for method, url in (("post", API), ("patch", f"{API}/{destination.pk}")):
        answer = getattr(admin_api, method)(url, [None, None], content_type="application/json")
        assert answer.status_code == 422, (method, answer.content)
    assert Destination.objects.count() == 1


def test_ids_too_large_for_the_database_are_not_found(viewer_api):
    answer = viewer_api.get(f"{API}/{2**63}/deliveries")
    assert (answer.status_code, answer.json()) == (404, {"detail": "Not Found"})
