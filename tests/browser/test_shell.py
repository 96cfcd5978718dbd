"""In a real browser: log in, see the dashboard and navigation; anonymous visits go to login."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from ingestion.health import add_hourly
from sources import stats
from tests.browser.test_layout import WIDTHS, overflow
from tests.factories import EventFactory, SourceFactory

TELEPORT = "Gravitational.TeleportAudit"


def test_anonymous_visit_lands_on_login(page, live_server):
    page.goto(f"{live_server.url}/sources/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/sources/$"))
    expect(page.get_by_role("heading", name="Sign in to Sluice")).to_be_visible()


def test_log_in_and_see_dashboard_and_navigation(signed_in_page, live_server, screenshots):
    page = signed_in_page
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    for label in ["Configure › Log Sources", "Search", "Admin"]:
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    expect(page.get_by_text("alice-admin")).to_be_visible()
    expect(page.get_by_text("No log sources yet")).to_be_visible()
    page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)

    nav.get_by_role("link", name="Configure › Log Sources").click()
    expect(page).to_have_url(f"{live_server.url}/sources/")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))


def test_dashboard_and_sources_list_show_one_24_h_count(signed_in_page, live_server, screenshots):
    """The dashboard's events are the sum of the list's Received (24 h) column, at both widths,
    even when events' own times lie outside the window (a backfill of old logs)."""
    window_start = stats.hour_buckets(stats.RECEIVED_HOURS)[0]
    backfilled, live = SourceFactory(name="backfilled"), SourceFactory(name="live")
    EventFactory.create_batch(3, source=backfilled, p_event_time=timezone.now() - timedelta(days=3))
    add_hourly(backfilled.pk, events_by_log_type={TELEPORT: 1203})
    add_hourly(live.pk, events_by_log_type={TELEPORT: 31}, when=window_start + timedelta(minutes=1))
    add_hourly(live.pk, events_by_log_type={TELEPORT: 7}, when=window_start - timedelta(minutes=1))
    page = signed_in_page
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/")
        shown = page.get_by_test_id("events-24h").inner_text()
        page.screenshot(path=str(screenshots / f"counts-dashboard-{width}.png"), full_page=True)
        assert overflow(page) == []
        page.get_by_role("link", name=re.compile("Events received, last 24 h")).click()
        expect(page).to_have_url(f"{live_server.url}/sources/")
        column = page.locator(".events-24h").all_inner_texts()
        page.screenshot(path=str(screenshots / f"counts-sources-{width}.png"), full_page=True)
        assert overflow(page) == []
        assert sorted(column) == ["1,203", "31"]
        assert shown == "1,234"
