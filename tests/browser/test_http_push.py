"""The HTTP push transport end to end, in a real browser against the live server: the wizard
creates an HTTP source (its ingest URL and secret are shown once), clients push with requests
(gzip, bearer, HMAC, retries with and without an Idempotency-Key, a wrong secret, an oversized
body, a bad content type), and the events are in search."""

import gzip
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from events.models import Event
from sources.models import Source

pytestmark = pytest.mark.e2e
expect.set_options(timeout=15_000)
USER = "pusher-e2e"


def ndjson(count: int, first: int = 0) -> bytes:
    now = datetime.now(UTC)
    lines = [
        json.dumps(
            {
                "event": "user.login",
                "code": "T1000I",
                "time": (now - timedelta(minutes=n)).isoformat().replace("+00:00", "Z"),
                "user": USER,
                "success": True,
                "addr_remote": f"10.9.0.{n}:3022",
            }
        )
        for n in range(first, first + count)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_wizard_then_pushes_then_search(signed_in_page, live_server, settings):
    settings.SLUICE_HTTP_MAX_BODY_BYTES = 64 * 1024
    page = signed_in_page
    page.goto(f"{live_server.url}/sources/")
    page.get_by_role("link", name="Create New").first.click()
    page.get_by_label("Search log types").fill("telep")
    page.get_by_role("link", name=re.compile(r"^Teleport")).click()
    page.get_by_role("link", name=re.compile(r"^HTTP")).click()

    # Configure: a name, bearer auth, no secret (one is generated)
    page.get_by_label("Name", exact=True).fill("teleport-http")
    expect(page.get_by_role("radio", name=re.compile("^Bearer token"))).to_be_checked()
    page.get_by_role("button", name="Continue to permissions").click()
    expect(page.get_by_text("Nothing to deploy")).to_be_visible()
    page.get_by_role("link", name="Continue to verification").click()
    page.get_by_role("link", name="Continue to finish").click()
    page.get_by_role("button", name="Save source").click()

    # The source page: its ingest URL, and its secret this once
    expect(page.get_by_role("heading", name="teleport-http")).to_be_visible()
    ingest_url = page.get_by_test_id("ingest-url").inner_text()
    secret = page.get_by_test_id("secret").inner_text()
    source = Source.objects.get(name="teleport-http")
    assert ingest_url == f"{live_server.url}/api/v1/ingest/{source.pk}"
    assert len(secret) >= 40
    assert secret not in json.dumps(source.config)
    page.reload()
    expect(page.get_by_test_id("ingest-url")).to_be_visible()
    expect(page.get_by_test_id("secret")).to_have_count(0)  # never again

    bearer = {"Authorization": f"Bearer {secret}", "Content-Type": "application/x-ndjson"}
    first = ndjson(5)
    pushed = requests.post(
        ingest_url, gzip.compress(first), headers={**bearer, "Content-Encoding": "gzip"}, timeout=30
    )
    assert pushed.status_code == 200, pushed.text
    assert pushed.json() == {"events": 5, "failures": 0, "duplicates": 0}

    # Retries add nothing: by Idempotency-Key, and without one by content
    keyed = {**bearer, "Idempotency-Key": "batch-7"}
    second = ndjson(3, first=10)
    assert requests.post(ingest_url, second, headers=keyed, timeout=30).json()["duplicates"] == 0
    retry = requests.post(ingest_url, second, headers=keyed, timeout=30).json()
    assert retry == {"events": 3, "failures": 0, "duplicates": 3}
    again = requests.post(ingest_url, first, headers=bearer, timeout=30).json()
    assert again == {"events": 5, "failures": 0, "duplicates": 5}

    # Refusals
    no = {**bearer, "Authorization": "Bearer no"}
    assert requests.post(ingest_url, first, headers=no, timeout=30).status_code == 401
    assert requests.post(ingest_url, b"x" * 70_000, headers=bearer, timeout=30).status_code == 413
    form = {**bearer, "Content-Type": "application/x-www-form-urlencoded"}
    assert requests.post(ingest_url, first, headers=form, timeout=30).status_code == 415

    # Switch the source to HMAC in its settings (the secret is kept), then push signed
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("radio", name=re.compile("^HMAC signature")).check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved")).to_be_visible()
    third = ndjson(2, first=20)
    signature = "sha256=" + hmac.new(secret.encode(), third, hashlib.sha256).hexdigest()
    signed = {"Content-Type": "application/x-ndjson", "X-Sluice-Signature": signature}
    assert requests.post(ingest_url, third, headers=signed, timeout=30).json()["events"] == 2
    assert requests.post(ingest_url, third, headers=bearer, timeout=30).status_code == 401

    assert Event.objects.filter(source=source).count() == 10
    page.goto(f"{live_server.url}/search/?q=user%3A{USER}")
    expect(page.locator("#total-count")).to_have_text("10 events")
    expect(page.locator("tr.event-row").first).to_contain_text("user.login")
