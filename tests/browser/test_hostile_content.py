"""Hostile log content and names, rendered everywhere they appear, show as text and never run.

Every page is also checked for Content-Security-Policy violations: a page that needed an inline
script or style, or that let injected markup through, would report one.
"""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from audit.trail import record
from events.models import Failure
from ingestion.models import ObjectLedger
from tests.factories import EventFactory, SourceFactory

expect.set_options(timeout=15_000)

SCRIPT = "<script>window.__pwned='script'</script>"
IMG = "<img src=x onerror=\"window.__pwned='img'\">"
HREF = "javascript:window.__pwned='href'"
HTMX = '<a hx-get="/admin/" hx-trigger="load" hx-on::load="window.__pwned=\'hx\'">x</a>'
TEMPLATE = "{{7*7}}"
# A source name fits in 100 characters: markup, an event handler and template syntax.
HOSTILE_NAME = f"<img src=x onerror=\"window.__pwned='name'\">{TEMPLATE}"
HOSTILE_FIELDS = {
    "event": SCRIPT,
    "user": IMG,
    "login": HREF,
    "server_hostname": HTMX,
    "code": TEMPLATE,
    "sid": f"sid-{IMG}",
}

MONITOR = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


class Watch:
    """What a page did that it should not: dialogs, CSP reports, requests to /admin/ by htmx."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.admin_requests: list[str] = []
        page.add_init_script(MONITOR)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", self._console)
        page.on("request", self._request)
        self.watch_admin = True

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def _request(self, request) -> None:
        if self.watch_admin and "/admin/" in request.url:
            self.admin_requests.append(request.url)

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        self.assert_clean(url)

    def assert_clean(self, where: str) -> None:
        assert self.page.evaluate("window.__pwned") is None, where
        assert self.page.evaluate("window.__cspViolations") == [], where
        assert self.console == [], where
        assert self.dialogs == [], where
        assert self.admin_requests == [], where


@pytest.fixture
def hostile(transactional_db):
    now = datetime.now(UTC)
    source = SourceFactory(name=HOSTILE_NAME)
    for i in range(5):
        EventFactory(
            source=source,
            p_event_time=now - timedelta(minutes=i),
            fields=HOSTILE_FIELDS,
            p_extra={"<b>key</b>": SCRIPT},
        )
    Failure.objects.create(
        source=source,
        object_key=f"teleport/{IMG}.json.gz",
        line=3,
        error=f"invalid JSON near {SCRIPT}",
        raw=f'{{"event": "{HTMX}'.encode(),
    )
    ObjectLedger.objects.create(
        source=source,
        bucket="b",
        key=f"teleport/{SCRIPT}.json.gz",
        status=ObjectLedger.Status.FAILED,
        attempts=3,
        error=f"AccessDenied {IMG}",
    )
    record("created", source)
    # a session id with "/" cannot be a URL path segment: the event page just has no timeline link
    EventFactory(source=source, p_event_time=now - timedelta(hours=2), fields={"sid": SCRIPT})
    return source


def test_hostile_names_and_log_lines_show_as_text_on_every_page(
    signed_in_page, live_server, hostile
):
    page = signed_in_page
    watch = Watch(page)
    base = live_server.url
    sid = HOSTILE_FIELDS["sid"]

    watch.visit(f"{base}/")
    expect(page.locator("main")).to_contain_text(HOSTILE_NAME)

    for tab in ["", "health/", "settings/", "history/"]:
        watch.visit(f"{base}/sources/{hostile.pk}/{tab}")
        assert HOSTILE_NAME in page.title()
    watch.visit(f"{base}/sources/")
    expect(page.locator("main")).to_contain_text(HOSTILE_NAME)

    watch.visit(f"{base}/ingestion/sources/{hostile.pk}/")
    failures = page.get_by_test_id("failures")
    expect(failures).to_contain_text(f"invalid JSON near {SCRIPT}")
    expect(failures).to_contain_text(HTMX)
    expect(page.locator("main")).to_contain_text(f"AccessDenied {IMG}")

    cols = "event,user,login,server_hostname,code,sid"
    watch.visit(f"{base}/search/?cols={cols}&hist=1")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text(SCRIPT)
    expect(row).to_contain_text(TEMPLATE)
    row.get_by_role("button", name="Show event JSON").first.click()
    expect(page.locator("tr.event-json pre").first).to_contain_text("<b>key</b>")
    page.locator(".field-sidebar").get_by_role("link", name="server_hostname").click()
    expect(page.locator("#facet-panel .facet-value").first).to_have_text(HTMX)
    page.locator(".field-sidebar").get_by_role("link", name="event").click()
    expect(page.locator("#facet-panel .facet-value").first).to_have_text(SCRIPT)
    watch.assert_clean("search after expanding a row and picking fields")

    # the query itself is reflected back: in the box, the results and any error message
    watch.visit(f"{base}/search/?q=user:%22{IMG}%22")
    expect(page.locator("#q")).to_have_value(f'user:"{IMG}"')
    watch.visit(f"{base}/search/?q={SCRIPT}%20AND%20(")

    for row_id in _row_ids(hostile):
        watch.visit(f"{base}/search/events/{row_id}/")
        expect(page.locator("#event-json")).to_contain_text("window.__pwned")
    watch.visit(f"{base}/search/sessions/{sid}/")
    assert sid in page.title()
    expect(page.locator("main")).to_contain_text(SCRIPT)

    # the admin's changelists and change pages (the admin is allowed to request /admin/ now)
    watch.watch_admin = False
    for model in ["sources/source", "sources/sourcechange", "events/event", "events/failure"]:
        watch.visit(f"{base}/admin/{model}/")
    watch.visit(f"{base}/admin/sources/source/{hostile.pk}/change/")
    assert HOSTILE_NAME in page.title()


def _row_ids(source) -> list[str]:
    """The newest event (hostile fields) and the oldest (a sid with "/")."""
    from events.models import Event

    ids = list(
        Event.objects.filter(source=source)
        .order_by("-p_event_time")
        .values_list("p_row_id", flat=True)
    )
    return [ids[0], ids[-1]]


MAIN_PAGES = [
    "/",
    "/sources/",
    "/sources/new/",
    "/search/",
    "/search/?hist=1",
    "/account/",
    "/admin/",
    "/admin/sources/source/",
    "/admin/sources/source/add/",
    "/api/docs",
]


def test_no_main_page_reports_a_csp_violation(signed_in_page, live_server, transactional_db):
    source = SourceFactory(name="prod-teleport")
    EventFactory(source=source)
    watch = Watch(signed_in_page)
    watch.watch_admin = False
    for path in [*MAIN_PAGES, f"/sources/{source.pk}/", f"/ingestion/sources/{source.pk}/"]:
        watch.visit(live_server.url + path)


def test_the_login_page_has_no_csp_violation(page, live_server, transactional_db):
    watch = Watch(page)
    watch.visit(f"{live_server.url}/login/")


def test_the_csp_blocks_markup_that_slipped_through_and_the_watch_sees_it(
    signed_in_page, live_server
):
    """If escaping ever failed, the browser would still refuse to run it, and these tests fail."""
    page = signed_in_page
    watch = Watch(page)
    watch.visit(f"{live_server.url}/")
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', "
        '`<img src="data:," onerror="window.__pwned=\'slipped\'">'
        '<div style="color:red">x</div>`)'
    )
    page.wait_for_function("window.__cspViolations.length >= 2")
    assert page.evaluate("window.__pwned") is None
    violations = page.evaluate("window.__cspViolations")
    assert any(v.startswith("script-src") for v in violations), violations
    assert any(v.startswith("style-src") for v in violations), violations
