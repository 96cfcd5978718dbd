"""POST JSON to a destination: no redirect followed, a bounded response excerpt kept."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

import orjson
from django.conf import settings

from destinations.urlpolicy import check_url

EXCERPT_BYTES = 500
USER_AGENT = "Sluice-Alerts/1"


@dataclass(frozen=True)
class Outcome:
    """One try: delivered, or why not and whether another try may succeed."""

    ok: bool
    status_code: int | None = None
    response: str = ""
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx comes back as an HTTPError: refused below


_opener = urllib.request.build_opener(_NoRedirect)


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is read as "later": None → our backoff)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    check_url(url)  # again at send time: DEBUG may differ between the web and the worker
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - checked above
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", USER_AGENT)
    for name, value in headers.items():
        request.add_header(name, value)
    timeout = settings.SLUICE_DESTINATION_TIMEOUT_SECONDS
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Outcome(True, response.status, _excerpt(response.read(EXCERPT_BYTES)))
    except urllib.error.HTTPError as exc:
        return _refused(exc)
    except TimeoutError as exc:
        return Outcome(False, error=f"timed out after {timeout:g} s ({exc})", retryable=True)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(False, error=f"could not connect: {reason}", retryable=True)


def _refused(exc: urllib.error.HTTPError) -> Outcome:
    code = exc.code
    text = _excerpt(exc.read(EXCERPT_BYTES) if exc.fp else b"")
    if 300 <= code < 400:
        where = exc.headers.get("Location", "?")
        return Outcome(False, code, text, f"redirect to {where} not followed")
    retryable = code == 429 or code >= 500 or code == 408
    after = retry_after(exc.headers.get("Retry-After")) if retryable else None
    return Outcome(False, code, text, f"HTTP {code}", retryable, after)


def _excerpt(raw: bytes) -> str:
    return raw[:EXCERPT_BYTES].decode("utf-8", "replace")


def dumps(payload: object) -> bytes:
    return orjson.dumps(payload)
