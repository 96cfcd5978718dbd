"""Which URLs a destination may send to: https anywhere; http only to a loopback address and
only with DEBUG (a local receiver while developing). Redirects are never followed
(destinations/http.py)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

LOOPBACK_NAMES = {"localhost"}


class URLNotAllowed(ValueError):
    pass


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The URL, stripped, or URLNotAllowed with a message for the field."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise URLNotAllowed(f"Not a valid URL: {exc}.") from exc
    if not host:
        raise URLNotAllowed("Enter a full URL, such as https://hooks.example.com/sluice.")
    if parts.username or parts.password:
        raise URLNotAllowed("Put credentials in a header, not in the URL.")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and is_loopback(host):
        if settings.DEBUG:
            return url
        raise URLNotAllowed("http:// is allowed only for a loopback address with DEBUG on.")
    raise URLNotAllowed("Use an https:// URL.")
