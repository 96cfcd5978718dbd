"""In a real browser, against moto and the worker layout: a custom log type from an uploaded
sample (inferred, edited, tested, saved) onboarded as an S3 source, its events found in search."""

import gzip
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from playwright.sync_api import expect

from sources import aws as aws_clients
from tests.logtypes.conftest import schemas_dir  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e
BUCKET = "webapp-logs"
INGEST_TIMEOUT = 90_000


def shot(page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"custom-log-type-{name}.png"), full_page=True)


def sample_lines(count: int) -> bytes:
    start = datetime.now(UTC) - timedelta(minutes=30)
    lines = [
        {
            "ts": (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
            "level": ("info", "warn", "error")[i % 3],
            "client_ip": f"203.0.113.{i % 50}",
            "path": f"/api/items/{i}",
            "status": (200, 404, 500)[i % 3],
            "latency_ms": 1.5 + i,
        }
        for i in range(count)
    ]
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


@pytest.fixture
def webapp_bucket(aws):
    s3 = aws_clients.client("s3", region="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="webapp/2026/a.json.gz", Body=gzip.compress(sample_lines(12)))
    return BUCKET


def test_from_a_sample_to_search(
    schemas_dir,  # noqa: F811
    signed_in_page,
    live_server,
    celery_worker,
    webapp_bucket,
    tmp_path,
    screenshots,
):
    page = signed_in_page
    sample = tmp_path / "webapp.log.gz"
    sample.write_bytes(gzip.compress(sample_lines(30)))

    # Configure > Schemas > Create New: infer from an uploaded compressed sample
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Schemas").click()
    page.get_by_role("link", name="Create New", exact=True).click()
    page.get_by_label("or upload a sample file").set_input_files(str(sample))
    page.get_by_role("button", name="Infer from sample").click()
    editor = page.get_by_label("Schema (Panther format, YAML)")
    expect(editor).to_have_value(re.compile(r"name: client_ip\n\s+required: true\n\s+type: string"))
    expect(editor).to_have_value(re.compile(r"isEventTime: true"))

    # Edit: rename the log type and narrow status to int; a typo is caught as typed, with its line
    text = editor.input_value().replace("Custom.MyApp", "Custom.WebApp")
    editor.fill(text.replace("type: bigint", "type: integer", 1))
    expect(page.locator("#problems")).to_contain_text("unknown type 'integer'")
    expect(page.locator("#problems")).to_contain_text(re.compile(r"line \d+, column \d+"))
    editor.fill(text.replace("type: bigint", "type: int", 1))
    expect(page.locator("#problems")).to_contain_text("Valid schema")
    shot(page, screenshots, "1-inferred")

    # Test it on the same sample: every line an event
    page.get_by_role("button", name="Test", exact=True).click()
    expect(page.locator("#results")).to_contain_text("30 events, 0 failures")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=re.compile("WebApp"))).to_be_visible()
    expect(page.locator(".versions")).to_contain_text("v1 by alice-admin")

    # The editor is usable on a phone: one column, nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/schemas/Custom.WebApp/edit/")
    widths = page.evaluate(
        "[...document.querySelectorAll('main *')].map(e => e.getBoundingClientRect().right)"
    )
    assert max(widths) <= 390
    expect(page.get_by_role("button", name="Infer from sample")).to_be_visible()
    page.set_viewport_size({"width": 1440, "height": 900})

    # Infer again into the saved schema: merged, not replaced (the int edit stays: values fit)
    page.get_by_label("or upload a sample file").set_input_files(str(sample))
    page.get_by_role("button", name="Infer from sample").click()
    expect(editor).to_have_value(re.compile(r"^schema: Custom\.WebApp"))
    expect(editor).to_have_value(re.compile(r"name: status\n\s+required: true\n\s+type: int\n"))

    # Onboard an S3 source with its tile
    page.goto(f"{live_server.url}/sources/new/?q=WebApp")
    page.get_by_role("link", name=re.compile(r"^WebApp")).click()
    page.get_by_role("link", name=re.compile("AWS S3 Bucket")).click()
    page.get_by_label("Name", exact=True).fill("webapp-prod")
    page.get_by_label("AWS Account ID").fill("123456789012")
    page.get_by_label("Bucket name").fill(BUCKET)
    page.get_by_label("List the bucket every N minutes").check()
    page.get_by_role("button", name="Continue to permissions").click()
    page.get_by_role("link", name="Continue to verification").click()  # the checks start
    expect(page.locator(".verification")).to_have_attribute("data-status", "passed", timeout=30_000)
    page.get_by_role("link", name="Continue to finish").click()
    page.get_by_role("button", name="Save source").click()
    expect(page.get_by_role("heading", name="webapp-prod")).to_be_visible()

    # Beat asks for listing passes; the workers parse the objects with the saved schema, and
    # search knows its columns
    celery_worker.start(["beat"])
    page.goto(f"{live_server.url}/search/?q=level:error")
    total = page.locator("#total-count")
    for _ in range(INGEST_TIMEOUT // 3000):
        if total.inner_text() == "4 events":
            break
        page.wait_for_timeout(3000)
        page.reload()
    expect(total).to_have_text("4 events")
    expect(page.locator(".field-sidebar")).to_contain_text("client_ip")
    shot(page, screenshots, "2-search")
