"""In a real browser: log in, see the dashboard and navigation; anonymous visits go to login."""

import re

from playwright.sync_api import expect


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
