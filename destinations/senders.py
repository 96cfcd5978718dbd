"""Send one message to one destination: one function per kind, each returning an Outcome."""

from __future__ import annotations

import hashlib
import hmac
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from destinations import messages
from destinations.http import Outcome, dumps, post
from destinations.models import Destination, Kind
from destinations.sealed import unseal
from destinations.urlpolicy import URLNotAllowed
from destinations.view import AlertView
from sources.crypto import SecretUnreadable

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
SIGNATURE_HEADER = "X-Sluice-Signature"


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the exact body>`, as GitHub signs its webhooks."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(destination: Destination, view: AlertView, change: str) -> Outcome:
    try:
        secret = unseal(destination.secrets)
        return SENDERS[destination.kind](destination, secret, view, change)
    except SecretUnreadable as exc:
        return Outcome(False, error=str(exc))
    except URLNotAllowed as exc:
        return Outcome(False, error=f"URL not allowed: {exc}")


def _slack(destination: Destination, secret: dict, view: AlertView, change: str) -> Outcome:
    url = secret.get("webhook_url", "")
    if not url:
        return Outcome(False, error="no Slack webhook URL is set")
    return post(url, dumps(messages.slack(view, change)), {})


def _webhook(destination: Destination, secret: dict, view: AlertView, change: str) -> Outcome:
    body = dumps(messages.webhook(view, change))
    headers = dict(secret.get("headers") or {})
    if secret.get("hmac_secret"):
        headers[SIGNATURE_HEADER] = signature(secret["hmac_secret"], body)
    return post(destination.url, body, headers)


def _pagerduty(destination: Destination, secret: dict, view: AlertView, change: str) -> Outcome:
    key = secret.get("routing_key", "")
    if not key:
        return Outcome(False, error="no PagerDuty routing key is set")
    return post(destination.url or PAGERDUTY_URL, dumps(messages.pagerduty(view, change, key)), {})


def _email(destination: Destination, secret: dict, view: AlertView, change: str) -> Outcome:
    if not destination.recipients:
        return Outcome(False, error="no recipients")
    subject, text, html = messages.email(view, change)
    connection = get_connection(timeout=settings.SLUICE_DESTINATION_TIMEOUT_SECONDS)
    message = EmailMultiAlternatives(
        subject, text, to=list(destination.recipients), connection=connection
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except smtplib.SMTPResponseException as exc:
        code = exc.smtp_code
        reply = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return Outcome(False, code, reply[:500], f"SMTP {code}", retryable=400 <= code < 500)
    except smtplib.SMTPRecipientsRefused as exc:
        return Outcome(False, error=f"recipients refused: {sorted(exc.recipients)}")
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        return Outcome(False, error=f"SMTP: {exc}", retryable=True)
    return Outcome(True, 250, f"accepted for {len(destination.recipients)} recipient(s)")


SENDERS = {
    Kind.SLACK: _slack,
    Kind.WEBHOOK: _webhook,
    Kind.EMAIL: _email,
    Kind.PAGERDUTY: _pagerduty,
}
