"""Every page at 1440 and 390 px wide: nothing runs off the page, no CSP violation in the console
(page loads and htmx swaps alike), no serious axe finding. Screenshots of each page at both
widths are kept in var/screenshots/layout/ (CI keeps them as artifacts)."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.factories import EventFactory, FailureFactory, SourceFactory

expect.set_options(timeout=15_000)
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "layout"
WIDTHS = {"desktop": (1440, 900), "phone": (390, 844)}
MONITOR = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""
LONG = "teleport-cluster-with-a-rather-long-name.example.com:3025/" + "x" * 60


@pytest.fixture
def seeded(transactional_db):
    now = datetime.now(UTC)
    source = SourceFactory(name="prod-teleport")
    events = [
        EventFactory(
            source=source,
            p_event_time=now - timedelta(minutes=i),
            fields={
                "event": "session.start",
                "code": "T2000I",
                "user": f"alice-{i}@example.com",
                "login": "root",
                "addr_remote": f"10.0.0.{i}:3022",
                "server_hostname": LONG,
                "sid": f"5f1d0c4e-{i:04d}-4e6b-9a8f-3b2c1d0e9f8a",
                "session_start": "2026-12-01T10:00:00.817638134Z",
                "cluster_name": LONG,
            },
        )
        for i in range(60)
    ]
    FailureFactory(source=source, raw=b'{"event": "user.login", "broken": ' + b"x" * 300)
    return {"source": source, "event": events[0]}


def pages(seeded) -> dict[str, str]:
    pk = seeded["source"].pk
    return {
        "dashboard": "/",
        "sources": "/sources/",
        "source-overview": f"/sources/{pk}/",
        "source-health": f"/sources/{pk}/health/",
        "source-settings": f"/sources/{pk}/settings/",
        "source-ingestion": f"/ingestion/sources/{pk}/",
        "source-new": "/sources/new/",
        "source-configure": "/sources/new/Gravitational.TeleportAudit/s3/",
        "search": "/search/?hist=1",
        "event": f"/search/events/{seeded['event'].p_row_id}/",
        "audit": "/audit/",
        "account": "/account/",
    }


class Console:
    """CSP violations a page reports (its own listener and the console)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.messages: list[str] = []
        page.add_init_script(MONITOR)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.messages.append(message.text)

    def violations(self) -> list[str]:
        return [*self.page.evaluate("window.__cspViolations || []"), *self.messages]


def overflow(page: Page) -> list[str]:
    """Elements wider than the viewport that make the page scroll sideways."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width + 1) return [];
          return [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 1)
            .filter(e => !e.closest('.table-scroll, pre, .code'))
            .slice(0, 8)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                 + (typeof e.className === 'string' && e.className
                    ? '.' + e.className.split(' ').join('.') : '')
                 + ' right=' + Math.round(e.getBoundingClientRect().right));
        }"""
    )


def test_every_page_fits_both_widths_without_csp_violations(signed_in_page, live_server, seeded):
    page = signed_in_page
    console = Console(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        for name, path in pages(seeded).items():
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            wide = overflow(page)
            if wide:
                problems.append(f"{name} at {width_name} {width}px runs off the page: {wide}")
            if console.violations():
                problems.append(f"{name} at {width}px: CSP {console.violations()}")
    assert problems == [], "\n".join(problems)


def test_no_serious_axe_findings(signed_in_page, live_server, seeded):
    page = signed_in_page
    axe = Axe()
    found = {}
    for name, path in pages(seeded).items():
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        if name == "search":  # an expanded row's JSON is a scrollable region too
            page.get_by_role("button", name="Show event JSON").first.click()
            expect(page.locator("tr.event-json pre").first).to_be_visible()
        results = axe.run(page)
        serious = [
            f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        if serious:
            found[name] = serious
    assert found == {}


def test_histogram_zoom_and_row_expand_log_no_csp_violation(signed_in_page, live_server, seeded):
    page = signed_in_page
    console = Console(page)
    page.goto(f"{live_server.url}/search/?range=1h")
    expect(page.locator("#total-count")).to_have_text("60 events")
    for _ in range(2):
        page.locator("a.bar-link:not([data-count='0'])").last.click()
        expect(page).to_have_url(re.compile(r"start=.*&end="))
        page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Show event JSON").first.click()
    expect(page.locator("tr.event-json pre").first).to_be_visible()
    assert console.violations() == []


def test_the_query_error_caret_sits_under_the_problem(signed_in_page, live_server, seeded):
    page = signed_in_page
    page.goto(f"{live_server.url}/search/?q=event%3Auser.login+AND+%28")
    expect(page.locator("#query-error")).to_contain_text("a closing parenthesis is missing")
    offset = page.evaluate(
        """() => {
          const marked = document.querySelector('.query-at').getBoundingClientRect();
          const caret = document.querySelector('.caret').firstChild;
          const range = document.createRange();
          range.setStart(caret, caret.length - 1);
          range.setEnd(caret, caret.length);
          return range.getBoundingClientRect().left - marked.left;
        }"""
    )
    assert abs(offset) < 2
