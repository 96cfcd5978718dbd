"""Pure parts: the URL allow-list, backoff and Retry-After, the change a destination is told,
the PagerDuty and email messages, the HMAC signature."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from destinations import messages
from destinations.delivery import backoff
from destinations.dispatch import change_for
from destinations.http import Outcome, retry_after
from destinations.models import Delivery
from destinations.senders import signature
from destinations.urlpolicy import URLNotAllowed, check_url
from tests.factories import alert_view


@pytest.mark.parametrize(
    "url",
    ["https://hooks.slack.com/services/T/B/X", "https://127.0.0.1:8443/x", "https://[::1]/x"],
)
def test_https_is_allowed_anywhere(url, settings):
    settings.DEBUG = False
    assert check_url(url) == url


@pytest.mark.parametrize(
    ("url", "debug", "message"),
    [
        ("http://hooks.example.com/x", True, "Use an https:// URL."),
        ("http://127.0.0.1:9000/x", False, "only for a loopback address with DEBUG on"),
        ("http://10.0.0.8/x", True, "Use an https:// URL."),
        ("file:///etc/passwd", True, "Enter a full URL"),
        ("gopher://127.0.0.1/x", True, "Use an https:// URL."),
        ("https://user:pw@example.com/x", True, "Put credentials in a header"),
        ("https://example.com:99999/x", True, "Not a valid URL"),
    ],
)
def test_refused_urls_say_why(url, debug, message, settings):
    settings.DEBUG = debug
    with pytest.raises(URLNotAllowed, match=message):
        check_url(url)


def test_http_to_loopback_with_debug(settings):
    settings.DEBUG = True
    assert check_url("http://localhost:8025/hook") == "http://localhost:8025/hook"


def test_backoff_doubles_and_retry_after_wins(settings):
    settings.SLUICE_DESTINATION_RETRY_SECONDS = 10
    settings.SLUICE_DESTINATION_MAX_BACKOFF_SECONDS = 60
    failed = Outcome(False, 503, retryable=True)
    assert [backoff(n, failed) for n in (1, 2, 3, 4)] == [10, 20, 40, 60]
    assert backoff(1, Outcome(False, 429, retryable=True, retry_after=7)) == 7
    assert retry_after("12") == 12.0
    assert retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert retry_after(None) is None


def last(phase: str, severity: str) -> Delivery:
    return Delivery(phase=phase, severity=severity, seq=1)


@pytest.mark.parametrize(
    ("previous", "status", "severity", "wanted", "change"),
    [
        (None, "open", "high", True, "trigger"),
        (None, "open", "low", False, None),
        (None, "resolved", "high", True, None),
        (("open", "high"), "triaged", "high", True, None),
        (("open", "high"), "open", "critical", True, "update"),
        (("open", "high"), "open", "low", False, None),
        (("open", "high"), "resolved", "high", False, "resolve"),
        (("open", "high"), "closed", "high", True, "resolve"),
        (("resolved", "high"), "closed", "high", True, None),
        (("resolved", "high"), "open", "high", True, "reopen"),
    ],
)
def test_the_change_a_destination_is_told(previous, status, severity, wanted, change):
    before = last(*previous) if previous else None
    assert change_for(before, alert_view(status=status, severity=severity), wanted) == change


def test_pagerduty_trigger_and_resolve():
    trigger = messages.pagerduty(alert_view(severity="critical"), "trigger", "KEY")
    assert trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == "4242"
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["summary"].startswith("[CRITICAL] New alert: root logged in")
    assert trigger["links"] == [
        {"href": "http://127.0.0.1:8000/alerts/4242/", "text": "Open in Sluice"}
    ]
    resolve = messages.pagerduty(alert_view(status="resolved"), "resolve", "KEY")
    assert resolve == {"routing_key": "KEY", "event_action": "resolve", "dedup_key": "4242"}


def test_the_email_escapes_what_the_alert_holds():
    subject, text, html = messages.email(alert_view(title="<script>x</script>"), "trigger")
    assert subject == "[HIGH] New alert: <script>x</script>"
    assert "Rule: Teleport.SSHActivity" in text
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_signature_is_github_style_hmac_sha256():
    body = b'{"a":1}'
    assert signature("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
