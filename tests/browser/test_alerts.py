"""In a real browser: the dashboard's open alerts, the Alerts list, an alert's events and
session timeline, triage (status, assignee, comment) through htmx; Detections and a rule's
tests run by the interactive worker are out of this test (they need the worker layout)."""

import pytest
from playwright.sync_api import expect

from detections import ruleset
from detections.models import Alert
from ingestion.process import ingest_body
from tests.detections.conftest import body, harmless, root_login
from tests.factories import SourceFactory, UserFactory

expect.set_options(timeout=15_000)


@pytest.fixture
def alerted(transactional_db):
    """A root login and what the session did next, read through ingestion: one alert."""
    ruleset.reset()
    source = SourceFactory(name="prod-teleport")
    session = [
        root_login(0, user="mallory", host="db-7", sid="sess-77"),
        {
            **harmless(1),
            "user": "mallory",
            "sid": "sess-77",
            "program": "cat",
            "argv": ["/etc/shadow"],
        },
        {
            **harmless(2),
            "user": "mallory",
            "sid": "sess-77",
            "program": "curl",
            "argv": ["http://x"],
        },
    ]
    ingest_body(source, body(session), object_key="teleport/session.json", version="v1")
    UserFactory(username="dana")
    return Alert.objects.get(rule_id="Teleport.RootLogin")


def test_open_an_alert_read_its_events_and_session_and_triage_it(
    signed_in_page, live_server, alerted, screenshots
):
    page = signed_in_page
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(f"{live_server.url}/")
    expect(
        page.get_by_test_id("open-alerts").locator("[data-severity=medium] strong")
    ).to_have_text("1")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    page.screenshot(path=screenshots / "alerts-list.png", full_page=True)
    page.get_by_role("link", name=alerted.title).click()

    expect(page.get_by_test_id("alert-title")).to_have_text(alerted.title)
    events = page.get_by_test_id("alert-events")
    expect(events.locator("tbody tr")).to_have_count(1)
    expect(events).to_contain_text("session.start")
    timeline = page.get_by_test_id("session-timeline")
    expect(timeline.locator("li")).to_have_count(3)
    expect(timeline).to_contain_text("/etc/shadow")

    page.get_by_label("Status").select_option("triaged")
    page.get_by_label("Assignee").select_option("dana")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("Triaged")
    expect(page.get_by_test_id("alert-assignee")).to_have_text("dana")
    page.get_by_label("Comment").fill(
        "Break-glass login during the incident; checking with Mallory."
    )
    page.get_by_role("button", name="Add comment").click()
    expect(page.get_by_test_id("comments")).to_contain_text("Break-glass login")
    page.screenshot(path=screenshots / "alert-detail.png", full_page=True)

    alerted.refresh_from_db()
    assert (alerted.status, alerted.assignee.username) == ("triaged", "dana")

    page.get_by_test_id("alert-events").get_by_role("link").first.click()
    expect(page).to_have_url(
        f"{live_server.url}/search/events/{Alert.objects.get().matches.get().p_row_id}/"
    )


def test_the_alert_page_fits_a_phone(signed_in_page, live_server, alerted):
    page = signed_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    for path in (alerted.get_absolute_url(), "/alerts/", "/detections/"):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
