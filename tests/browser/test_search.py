"""In a real browser: query, histogram zoom, facet filter, row expand + copy, load more, session
timeline, export; hostile log content shows as text and never runs."""

import csv
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.factories import EventFactory, SourceFactory

expect.set_options(timeout=15_000)  # a loaded CI machine renders slower than a laptop


@pytest.fixture
def seeded(transactional_db):
    """60 logins in the last half hour (alice 40, bob 20) and one SSH session half a day ago."""
    now = datetime.now(UTC)  # at seeding, not import: "last hour" must hold when the test runs
    source = SourceFactory(name="prod-teleport")
    for i in range(60):
        EventFactory(
            source=source,
            p_event_time=now - timedelta(seconds=30 * i),  # the last half hour: 1h holds all
            fields={
                "event": "user.login",
                "code": "T1000I",
                "user": "alice" if i % 3 else "bob",
                "success": bool(i % 2),
                "addr_remote": f"10.0.0.{i}:3022",
            },
            p_any_ip_addresses=[f"10.0.0.{i}"],
        )
    start = now - timedelta(hours=12)
    session = [
        (0, "session.start", {"user": "alice", "login": "root", "server_hostname": "db-1"}),
        (4, "session.command", {"path": "/usr/bin/psql", "argv": ["-c", "select 1"]}),
        (6, "session.network", {"dst_addr": "10.1.1.1", "dst_port": 5432, "program": "psql"}),
        (8, "scp", {"path": "/tmp/backup.sql", "action": "download"}),
        (95, "session.end", {"user": "alice"}),
    ]
    for offset, name, extra in session:
        EventFactory(
            source=source,
            p_event_time=start + timedelta(seconds=offset),
            fields={"event": name, "sid": "5e55-1011", **extra},
        )
    return source


def rows(page):
    return page.locator("tr.event-row")


def test_query_zoom_facet_expand_and_load_more(
    signed_in_page, live_server, seeded, context, screenshots
):
    page = signed_in_page
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/search/")
    expect(page.locator("#total-count")).to_have_text("65 events")
    expect(rows(page)).to_have_count(50)

    page.get_by_role("link", name="Load more").click()
    expect(rows(page)).to_have_count(65)
    expect(page.get_by_text("End of results.")).to_be_visible()

    page.get_by_label("Query").fill("event:user.login success:false")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#total-count")).to_have_text("30 events")
    expect(page).to_have_url(re.compile(r"q=event%3Auser.login\+success%3Afalse"))

    # zoom: the histogram bar holding the newest events narrows the range to its bucket
    page.get_by_label("Time range").select_option("1h")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"range=1h"))
    expect(page.locator("#total-count")).to_have_text("30 events")
    bar = page.locator("a.bar-link:not([data-count='0'])").last
    zoomed_count = int(bar.get_attribute("data-count"))
    bar.click()
    expect(page).to_have_url(re.compile(r"start=.*&end="))
    expect(page.locator("#total-count")).to_have_text(
        f"{zoomed_count} event{'s' if zoomed_count != 1 else ''}"
    )
    expect(page.get_by_label("Time range")).to_have_value("custom")
    page.go_back()
    expect(page).to_have_url(re.compile(r"range=1h$"))
    expect(page.locator("#total-count")).to_have_text("30 events")

    # facet: top values of `user`, then filter for one of them
    page.goto(f"{live_server.url}/search/?q=event:user.login")
    expect(page.locator("#total-count")).to_have_text("60 events")
    page.locator(".field-sidebar").get_by_role("link", name="user", exact=True).click()
    panel = page.locator("#facet-panel")
    expect(panel.locator(".facet-value")).to_have_text(["alice", "bob"])
    expect(panel.locator(".facet-count")).to_have_text(["40", "20"])
    panel.get_by_role("link", name="Filter for bob").click()
    expect(page.get_by_label("Query")).to_have_value("event:user.login user:bob")
    expect(page.locator("#total-count")).to_have_text("20 events")

    # expand a row into its JSON and copy it
    first = rows(page).first
    first.get_by_role("button", name="Show event JSON").click()
    json_row = page.locator("tr.event-json").first
    expect(json_row).to_be_visible()
    expect(json_row.locator("pre")).to_contain_text('"user": "bob"')
    json_row.get_by_role("button", name="Copy JSON").click()
    expect(json_row.locator(".copy-status")).to_have_text("Copied")
    assert '"p_row_id"' in page.evaluate("navigator.clipboard.readText()")
    page.screenshot(path=str(screenshots / "search.png"), full_page=True)


def test_a_cell_pivots_the_search_in_place(signed_in_page, live_server, seeded):
    """Cell links carry only an href: the boosted table body swaps the results, no page load."""
    page = signed_in_page
    page.goto(f"{live_server.url}/search/?q=event:user.login")
    expect(page.locator("#total-count")).to_have_text("60 events")
    page.evaluate("window.__samePage = true")
    rows(page).first.get_by_role("link", name="bob").click()
    expect(page.get_by_label("Query")).to_have_value("event:user.login user:bob")
    expect(page.locator("#total-count")).to_have_text("20 events")
    expect(page).to_have_url(re.compile(r"q=event%3Auser.login\+user%3Abob"))
    assert page.evaluate("window.__samePage") is True


def test_session_timeline_from_a_sid_cell(signed_in_page, live_server, seeded, screenshots):
    page = signed_in_page
    page.goto(f"{live_server.url}/search/?q=sid:5e55-1011")
    page.get_by_role("link", name="5e55-1011").first.click()
    expect(page.get_by_role("heading", name="Session 5e55-1011")).to_be_visible()
    timeline = page.get_by_role("list", name="Session events in order")
    expect(timeline.locator(".kind")).to_have_text(["start", "command", "network", "file", "end"])
    expect(timeline).to_contain_text("/usr/bin/psql -c select 1")
    expect(page.locator("#session-duration")).to_have_text("1m 35.0s")
    page.screenshot(path=str(screenshots / "session-timeline.png"), full_page=True)


def test_export_downloads_the_current_results_as_csv(signed_in_page, live_server, seeded):
    page = signed_in_page
    page.goto(f"{live_server.url}/search/?q=user:bob")
    page.get_by_label("Export the first").fill("7")
    with page.expect_download() as info:
        page.get_by_role("button", name="CSV").click()
    path = info.value.path()
    with open(path, newline="") as handle:
        exported = list(csv.reader(handle))
    assert len(exported) == 1 + 7
    assert {row[5] for row in exported[1:]} == {"bob"}


HOSTILE = {
    "event": "<script>window.__pwned = 'script'</script>",
    "user": "<img src=x onerror=\"window.__pwned='img'\">",
    "login": "javascript:window.__pwned='href'",
    "server_hostname": '<a hx-get="/admin/" hx-trigger="load" hx-target="body">x</a>',
    "sid": "<svg onload=\"window.__pwned='svg'\">",
    "addr_remote": "\"><script>window.__pwned='attr'</script>",
}


def test_hostile_event_content_is_shown_as_text_and_never_runs(
    signed_in_page, live_server, transactional_db
):
    page = signed_in_page
    event = EventFactory(fields=HOSTILE, p_extra={"<b>key</b>": HOSTILE["event"]})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto(f"{live_server.url}/search/?cols=event,user,login,server_hostname,sid,addr_remote")
    row = rows(page).first
    expect(row).to_contain_text(HOSTILE["event"])
    expect(row).to_contain_text(HOSTILE["user"])
    row.get_by_role("button", name="Show event JSON").click()
    expect(page.locator("tr.event-json pre").first).to_contain_text("window.__pwned")
    page.locator(".field-sidebar").get_by_role("link", name="server_hostname").click()
    expect(page.locator("#facet-panel .facet-value")).to_have_text([HOSTILE["server_hostname"]])

    page.goto(f"{live_server.url}/search/events/{event.p_row_id}/")
    expect(page.locator("#event-json")).to_contain_text("hx-trigger")
    page.goto(f"{live_server.url}/search/sessions/{event.fields['sid']}/")
    page.wait_for_load_state("networkidle")

    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert not [url for url in requests if "/admin/" in url]
