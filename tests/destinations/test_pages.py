"""Configure > Destinations pages: admins create and change, viewers read; an alert's delivery log;
a failing destination on the dashboard."""

from __future__ import annotations

import pytest

from destinations.models import Delivery, DeliveryAttempt, Destination
from destinations.sealed import unseal
from tests.factories import DestinationFactory, alert_view

pytestmark = pytest.mark.django_db


def delivery_for(
    destination, status: str, *, alert_id: int | None = 7, error: str = ""
) -> Delivery:
    view = alert_view(id=alert_id)
    row = Delivery.objects.create(
        destination=destination,
        alert_id=alert_id,
        change="trigger",
        phase=view.phase,
        severity=view.severity,
        alert=view.to_json(),
        status=status,
        attempts=1,
    )
    DeliveryAttempt.objects.create(delivery=row, number=1, status_code=400, error=error)
    return row


def test_an_admin_creates_a_pagerduty_destination(admin_client):
    response = admin_client.post(
        "/destinations/new/",
        {"name": "on-call", "kind": "pagerduty", "min_severity": "high", "routing_key": "RK1"},
    )
    destination = Destination.objects.get(name="on-call")
    assert response.status_code == 302
    assert response["Location"] == f"/destinations/{destination.pk}/"
    assert unseal(destination.secrets) == {"routing_key": "RK1"}
    page = admin_client.get(response["Location"]).content.decode()
    assert "RK1" not in page
    assert "secrets set: routing_key" in page


def test_a_bad_form_shows_the_message_on_its_field(admin_client):
    response = admin_client.post(
        "/destinations/new/", {"name": "x", "kind": "webhook", "url": "http://example.com/hook"}
    )
    assert response.status_code == 200
    assert "Use an https:// URL." in response.content.decode()
    assert not Destination.objects.exists()


def test_the_type_select_swaps_in_its_fields(admin_client):
    response = admin_client.get("/destinations/new/?kind=email", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="kind-fields"' in html
    assert 'name="recipients"' in html
    assert 'name="url"' not in html


def test_saving_settings_keeps_a_secret_left_empty(admin_client):
    destination = DestinationFactory(
        kind="slack", secret={"webhook_url": "https://hooks.slack.com/x"}
    )
    response = admin_client.post(
        f"/destinations/{destination.pk}/",
        {"name": "renamed", "kind": "slack", "min_severity": "medium", "enabled": "on"},
    )
    assert response.status_code == 302
    destination.refresh_from_db()
    assert destination.name == "renamed"
    assert unseal(destination.secrets) == {"webhook_url": "https://hooks.slack.com/x"}


def test_viewers_read_the_list_and_deliveries_but_see_no_form(viewer_client):
    destination = DestinationFactory(name="chat")
    delivery_for(destination, "failed", error="HTTP 400")
    listing = viewer_client.get("/destinations/").content.decode()
    assert "chat" in listing
    assert "Create New" not in listing
    detail = viewer_client.get(f"/destinations/{destination.pk}/").content.decode()
    assert "Only source admins can change destinations." in detail
    assert "400: HTTP 400" in detail


def test_an_alerts_delivery_log(viewer_client):
    destination = DestinationFactory(name="chat")
    delivery_for(destination, "failed", alert_id=42, error="HTTP 400")
    delivery_for(DestinationFactory(name="other"), "delivered", alert_id=43)
    html = viewer_client.get(
        "/destinations/alerts/42/", headers={"HX-Request": "true"}
    ).content.decode()
    assert html.startswith('<section id="alert-deliveries"')
    assert "chat" in html
    assert "other" not in html
    assert "HTTP 400" in html
    page = viewer_client.get("/destinations/alerts/42/").content.decode()  # without JS: a page
    assert "<title>Deliveries of alert 42" in page
    assert 'id="alert-deliveries"' in page


def test_a_failing_destination_shows_on_the_dashboard(viewer_client):
    ok = DestinationFactory(name="fine")
    delivery_for(ok, "delivered")
    failing = DestinationFactory(name="broken-hook")
    delivery_for(failing, "failed", error="HTTP 400")
    html = viewer_client.get("/").content.decode()
    assert 'data-testid="failing-destinations"' in html
    assert "broken-hook" in html
    assert ">fine<" not in html
