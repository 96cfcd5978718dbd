"""Configure > Destinations in chromium: create a webhook destination, send a test alert to a real
local receiver (which checks the signature) and read the result inline, then a failing one."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from playwright.sync_api import expect

from destinations.models import Destination
from tests.destinations import conftest as receivers

expect.set_options(timeout=15_000)
receiver = receivers.receiver  # the local HTTP receiver fixture of tests/destinations


@pytest.fixture
def loopback_allowed(settings):
    """http://127.0.0.1 receivers are allowed with DEBUG only."""
    settings.DEBUG = True


def test_configure_a_webhook_and_send_a_test_alert(
    signed_in_page, live_server, receiver, loopback_allowed
):
    page = signed_in_page
    page.get_by_role("link", name="Configure › Destinations").click()
    page.get_by_role("link", name="Create New").first.click()

    page.get_by_label("Type", exact=True).select_option("slack")  # htmx swaps in Slack's fields
    expect(page.get_by_label("Slack webhook URL")).to_be_visible()
    page.get_by_label("Type", exact=True).select_option("webhook")
    expect(page.get_by_label("Signing secret")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("soc webhook")
    page.get_by_label("Minimum severity").select_option("info")
    page.get_by_label("URL", exact=True).fill(f"{receiver.url}/hook")
    page.get_by_label("Signing secret").fill("s3cret-value")
    page.get_by_role("button", name="Create destination").click()

    expect(page.get_by_role("heading", name="soc webhook")).to_be_visible()
    expect(page.get_by_text("secrets set: hmac_secret")).to_be_visible()
    assert "s3cret-value" not in page.content()

    page.get_by_role("button", name="Send a test alert").click()
    result = page.locator("#test-result")
    expect(result).to_contain_text("Delivered.")
    expect(result).to_contain_text("The receiver answered 200.")
    [got] = receiver.on("/hook")
    expected = hmac.new(b"s3cret-value", got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Sluice-Signature"] == f"sha256={expected}"
    assert json.loads(got.body)["change"] == "test"

    receiver.answer("/hook", (503, {}, 0))
    page.get_by_role("button", name="Send a test alert").click()
    expect(result).to_contain_text("Not delivered.")
    expect(result).to_contain_text("HTTP 503")
    page.reload()
    deliveries = page.locator("#deliveries")
    expect(deliveries.locator("tbody tr")).to_have_count(2)
    expect(deliveries).to_contain_text("503: HTTP 503")
    assert Destination.objects.get().url == f"{receiver.url}/hook"
