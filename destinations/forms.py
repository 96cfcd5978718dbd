"""The one validation of a destination's settings: the pages post this form, the API binds it
from JSON (destinations/api.py), so both agree on every rule and message."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from destinations.models import SEVERITIES, Destination, Kind
from destinations.sealed import SECRET_FIELDS, unseal
from destinations.urlpolicy import URLNotAllowed, check_url
from logtypes import registry as logtypes

HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,100}$")
RESERVED_HEADERS = {"content-type", "content-length", "host", "user-agent", "x-sluice-signature"}
SECRET_NAMES = ("webhook_url", "hmac_secret", "headers", "routing_key")
REQUIRED_SECRET = {Kind.SLACK: "webhook_url", Kind.PAGERDUTY: "routing_key"}


def split_list(text: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,\n]", text or "") if item.strip()]


def parse_headers(text: str) -> dict[str, str]:
    """`Name: value` lines → {name: value}; ValidationError naming the bad line."""
    headers: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not HEADER_NAME.match(name) or not value:
            raise ValidationError(f"Line {number}: write each header as Name: value.")
        if name.lower() in RESERVED_HEADERS:
            raise ValidationError(f"Line {number}: {name} is set by Sluice.")
        if any(ch in value for ch in "\r\n\0"):
            raise ValidationError(f"Line {number}: the value holds a control character.")
        headers[name] = value
    return headers


class DestinationForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=Kind.choices, label="Type")
    enabled = forms.BooleanField(required=False, initial=True)
    min_severity = forms.ChoiceField(
        choices=[(s, s.title()) for s in SEVERITIES], initial="low", label="Minimum severity"
    )
    log_types = forms.CharField(required=False, help_text="Comma-separated; empty: every log type.")
    rule_ids = forms.CharField(
        required=False,
        label="Rules",
        help_text="Comma-separated rule ids (System.* and other shell patterns allowed); empty: "
        "every rule.",
    )
    url = forms.CharField(
        required=False,
        max_length=2000,
        label="URL",
        help_text="Webhook: where to POST. PagerDuty: empty for PagerDuty's own Events API.",
    )
    recipients = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Comma-separated."
    )
    webhook_url = forms.CharField(
        required=False,
        max_length=2000,
        label="Slack webhook URL",
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted and never shown again.",
    )
    hmac_secret = forms.CharField(
        required=False,
        max_length=500,
        label="Signing secret",
        widget=forms.PasswordInput(render_value=False),
        help_text="Optional: signs each body as X-Sluice-Signature: sha256=<HMAC>.",
    )
    headers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Custom headers",
        help_text="One Name: value a line; stored encrypted and never shown again.",
    )
    routing_key = forms.CharField(
        required=False,
        max_length=200,
        label="Routing key",
        widget=forms.PasswordInput(render_value=False),
        help_text="The integration key of a PagerDuty service (Events API v2).",
    )

    def __init__(self, *args: Any, instance: Destination | None = None, **kwargs: Any) -> None:
        self.instance = instance
        super().__init__(*args, **kwargs)
        self.stored = unseal(instance.secrets) if instance is not None else {}
        for name in ("url", "webhook_url", "routing_key", "recipients"):
            self.fields[name].conditional = True  # required by some types: not "(optional)"
        for name in SECRET_NAMES:
            if name in self.stored:
                self.fields[name].help_text = "Set. Leave empty to keep it; type to replace it."

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = Destination.objects.filter(name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError("A destination with this name exists.")
        return name

    def clean_log_types(self) -> list[str]:
        values = split_list(self.cleaned_data["log_types"])
        known = set(logtypes.names())
        unknown = [v for v in values if v not in known]
        if unknown:
            raise ValidationError(f"Unknown log type: {', '.join(unknown)}.")
        return values

    def clean_rule_ids(self) -> list[str]:
        return split_list(self.cleaned_data["rule_ids"])

    def clean_recipients(self) -> list[str]:
        values = split_list(self.cleaned_data["recipients"])
        for value in values:
            validate_email(value)
        return values

    def clean_headers(self) -> dict[str, str]:
        return parse_headers(self.cleaned_data["headers"])

    def _check_url(self, field: str) -> None:
        value = self.cleaned_data.get(field)
        if value:
            try:
                self.cleaned_data[field] = check_url(value)
            except URLNotAllowed as exc:
                self.add_error(field, str(exc))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        self._check_url("url")
        self._check_url("webhook_url")
        needed = REQUIRED_SECRET.get(kind)
        missing = needed and needed not in self.errors and not data.get(needed)
        if missing and needed not in self.stored:
            self.add_error(needed, "This field is required.")
        if kind == Kind.WEBHOOK and "url" not in self.errors and not data.get("url"):
            self.add_error("url", "This field is required.")
        if kind == Kind.EMAIL and "recipients" not in self.errors and not data.get("recipients"):
            self.add_error("recipients", "Give at least one address.")
        return data

    def secrets(self) -> dict[str, Any]:
        """The secret settings after this form: typed values replace, empty ones keep."""
        data = self.cleaned_data
        kept = {k: v for k, v in self.stored.items() if k in SECRET_FIELDS.get(data["kind"], ())}
        typed = {k: data[k] for k in SECRET_FIELDS.get(data["kind"], ()) if data.get(k)}
        return {**kept, **typed}

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kind": data["kind"],
            "enabled": data["enabled"],
            "min_severity": data["min_severity"],
            "log_types": data["log_types"],
            "rule_ids": data["rule_ids"],
            "url": data["url"] if data["kind"] in (Kind.WEBHOOK, Kind.PAGERDUTY) else "",
            "recipients": data["recipients"] if data["kind"] == Kind.EMAIL else [],
        }


def initial_from(destination: Destination) -> dict[str, Any]:
    """A destination's non-secret settings as the form's initial values."""
    return {
        "name": destination.name,
        "kind": destination.kind,
        "enabled": destination.enabled,
        "min_severity": destination.min_severity,
        "log_types": ", ".join(destination.log_types),
        "rule_ids": ", ".join(destination.rule_ids),
        "url": destination.url,
        "recipients": ", ".join(destination.recipients),
    }
