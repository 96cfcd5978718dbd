"""The message each kind of destination receives, as pure functions of an AlertView."""

from __future__ import annotations

from html import escape
from typing import Any

from destinations.view import AlertView

SEVERITY_EMOJI = {
    "info": ":information_source:",
    "low": ":large_blue_circle:",
    "medium": ":large_yellow_circle:",
    "high": ":large_orange_circle:",
    "critical": ":red_circle:",
}
PAGERDUTY_SEVERITY = {
    "info": "info",
    "low": "info",
    "medium": "warning",
    "high": "error",
    "critical": "critical",
}
CHANGE_WORDS = {
    "trigger": "New alert",
    "update": "Severity changed",
    "resolve": "Resolved",
    "reopen": "Reopened",
    "test": "Test alert",
}


def headline(view: AlertView, change: str) -> str:
    return f"[{view.severity.upper()}] {CHANGE_WORDS.get(change, change)}: {view.title}"


def _facts(view: AlertView) -> list[tuple[str, str]]:
    return [
        ("Severity", view.severity.title()),
        ("Rule", view.rule_id),
        ("Status", view.status.title()),
        ("Events", str(view.event_count)),
        ("First event", view.first_event_time or "–"),
        ("Last event", view.last_event_time or "–"),
    ]


def slack(view: AlertView, change: str) -> dict[str, Any]:
    """Block Kit: a header, the facts as fields, and a button to the alert."""
    emoji = SEVERITY_EMOJI.get(view.severity, "")
    text = f"{emoji} {headline(view, change)}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": text[:150], "emoji": True}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in _facts(view)],
        },
    ]
    if view.url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in Sluice"},
                        "url": view.url,
                    }
                ],
            }
        )
    return {"text": text, "blocks": blocks}


def webhook(view: AlertView, change: str) -> dict[str, Any]:
    """The alert (and up to 10 of its events) as JSON."""
    return {"change": change, "alert": view.to_json()}


def pagerduty(view: AlertView, change: str, routing_key: str) -> dict[str, Any]:
    """Events API v2: trigger (or resolve) with the alert id as the dedup key."""
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "resolve" if change == "resolve" else "trigger",
        "dedup_key": str(view.id) if view.id is not None else "sluice-test-alert",
    }
    if change == "resolve":
        return body
    body["payload"] = {
        "summary": headline(view, change)[:1024],
        "source": "sluice",
        "severity": PAGERDUTY_SEVERITY.get(view.severity, "warning"),
        "timestamp": view.last_event_time or view.created_at,
        "component": view.rule_id,
        "class": ", ".join(view.log_types) or None,
        "custom_details": {
            "rule": view.rule_id,
            "event_count": view.event_count,
            "first_event_time": view.first_event_time,
            "last_event_time": view.last_event_time,
            "alert_context": view.alert_context,
        },
    }
    body["payload"] = {k: v for k, v in body["payload"].items() if v is not None}
    if view.url:
        body["links"] = [{"href": view.url, "text": "Open in Sluice"}]
    return body


def email(view: AlertView, change: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML)."""
    subject = headline(view, change)[:200]
    lines = [subject, ""] + [f"{k}: {v}" for k, v in _facts(view)]
    if view.runbook:
        lines += ["", "Runbook:", view.runbook]
    if view.url:
        lines += ["", view.url]
    rows = "".join(
        f"<tr><th align='left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in _facts(view)
    )
    html = f"<h2>{escape(subject)}</h2><table>{rows}</table>"
    if view.runbook:
        html += f"<h3>Runbook</h3><p>{escape(view.runbook)}</p>"
    if view.url:
        html += f"<p><a href='{escape(view.url)}'>Open in Sluice</a></p>"
    return subject, "\n".join(lines) + "\n", html
